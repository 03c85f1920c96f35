//! Manifests of registered documents, in the two formats clients produce:
//! Apollo's persisted query manifest
//! (`{"format": "apollo-persisted-query-manifest", "version": 1,
//! "operations": [{"id", "name", "type", "body"}]}`) and Relay's
//! `{"<id>": "<document>"}` map.

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::Value;

/// A manifest, whatever its format.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The manifest's own client name (Apollo manifests may carry one).
    pub client_name: Option<String>,
    pub documents: Vec<ManifestDocument>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ManifestDocument {
    pub id: String,
    pub name: Option<String>,
    pub body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApolloManifest {
    format: String,
    version: u32,
    #[serde(default)]
    client_name: Option<String>,
    operations: Vec<ApolloOperation>,
}

#[derive(Deserialize)]
struct ApolloOperation {
    id: String,
    #[serde(default)]
    name: Option<String>,
    body: String,
}

pub fn parse(text: &str) -> anyhow::Result<Manifest> {
    let value: Value = serde_json::from_str(text).context("the manifest is not JSON")?;
    let Value::Object(object) = &value else {
        bail!(
            "a manifest is a JSON object (Apollo's persisted query manifest, or Relay's id-to-document map)"
        );
    };
    if object.contains_key("format") {
        let manifest: ApolloManifest =
            serde_json::from_value(value).context("reading an Apollo persisted query manifest")?;
        if manifest.format != "apollo-persisted-query-manifest" {
            bail!("unknown manifest format `{}`", manifest.format);
        }
        if manifest.version != 1 {
            bail!(
                "Apollo manifest version {} is not supported (1 is)",
                manifest.version
            );
        }
        return Ok(Manifest {
            client_name: manifest.client_name,
            documents: manifest
                .operations
                .into_iter()
                .map(|operation| ManifestDocument {
                    id: operation.id,
                    name: operation.name,
                    body: operation.body,
                })
                .collect(),
        });
    }
    let mut documents = Vec::with_capacity(object.len());
    for (id, body) in object {
        let Value::String(body) = body else {
            bail!("Relay manifest entry `{id}` is not a document (a string)");
        };
        documents.push(ManifestDocument {
            id: id.clone(),
            name: None,
            body: body.clone(),
        });
    }
    Ok(Manifest {
        client_name: None,
        documents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apollo_manifests_are_read() {
        let manifest = parse(
            r#"{"format":"apollo-persisted-query-manifest","version":1,"clientName":"web",
                "operations":[{"id":"abc","name":"Q","type":"query","body":"query Q { __typename }"}]}"#,
        )
        .unwrap();
        assert_eq!(manifest.client_name.as_deref(), Some("web"));
        assert_eq!(manifest.documents[0].id, "abc");
        assert_eq!(manifest.documents[0].name.as_deref(), Some("Q"));
    }

    #[test]
    fn relay_maps_are_read() {
        let manifest =
            parse(r#"{"1a2b": "query A { __typename }", "3c4d": "query B { __typename }"}"#)
                .unwrap();
        assert_eq!(manifest.client_name, None);
        assert_eq!(manifest.documents.len(), 2);
    }

    #[test]
    fn other_json_is_refused_with_a_reason() {
        for text in [
            "[]",
            "{\"a\": 1}",
            "{\"format\": \"x\", \"version\": 1, \"operations\": []}",
            "nope",
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
    }
}
