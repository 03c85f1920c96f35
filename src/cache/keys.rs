//! Every Redis key and channel the cache uses, and nothing else makes one.
//!
//! An entry's key holds the prefix, the tenant, the schema version (a
//! deploy that changes a value's shape never reads an old one), the
//! resolver, the role when the answer depends on it, and a hash of the
//! arguments. The tenant is a hash tag (`{…}`): all of a tenant's keys live
//! in one slot, so the cache's scripts also work on a Redis cluster.
//! Tag keys carry no schema version: an invalidation must reach the entries
//! of every version still running during a rolling deploy.

use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::Role;
use crate::db::TenantId;

/// What a cached value depends on; a write names the tags it touched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tag {
    /// One order's row.
    Order(Uuid),
    /// One product of the catalogue, by SKU.
    Product(String),
    /// Figures over all of a tenant's orders (statistics, counts).
    Aggregates,
}

impl Tag {
    /// The tag's text in keys and invalidation messages.
    pub fn render(&self) -> String {
        match self {
            Self::Order(id) => format!("order:{id}"),
            Self::Product(sku) => format!("product:{}", short_hash(sku.as_bytes())),
            Self::Aggregates => "aggregates".to_owned(),
        }
    }
}

fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..12])
}

/// The key space of one deployment.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
    schema_version: String,
}

impl Keys {
    /// `schema_version` changes whenever the shape of cached values may
    /// (the SDL and the service's version, hashed).
    pub fn new(prefix: &str, schema_version: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            schema_version: schema_version.to_owned(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn tenant(&self, tenant: TenantId) -> String {
        format!("{}:t:{{{tenant}}}", self.prefix)
    }

    /// A resolver's value for these arguments.
    pub fn entry(
        &self,
        tenant: TenantId,
        resolver: &str,
        role: Option<Role>,
        args: &impl Serialize,
    ) -> String {
        let args = serde_json::to_vec(args).unwrap_or_default();
        let role = role.map_or("-", Role::as_str);
        format!(
            "{}:v{}:{resolver}:{role}:{}",
            self.tenant(tenant),
            self.schema_version,
            short_hash(&args)
        )
    }

    /// A by-id loader's value for one key.
    pub fn loaded(&self, tenant: TenantId, loader: &str, key: &str) -> String {
        format!(
            "{}:v{}:{loader}:{}",
            self.tenant(tenant),
            self.schema_version,
            short_hash(key.as_bytes())
        )
    }

    /// The set of entry keys a tag invalidates.
    pub fn tag_members(&self, tenant: TenantId, tag: &str) -> String {
        format!("{}:tag:{tag}", self.tenant(tenant))
    }

    /// The tag's version, raised by every invalidation: a value computed
    /// before a write is not stored after it.
    pub fn tag_version(&self, tenant: TenantId, tag: &str) -> String {
        format!("{}:tagver:{tag}", self.tenant(tenant))
    }

    /// An automatic persisted query's document, per tenant: a tenant never
    /// learns from a hit which documents another tenant has sent.
    pub fn apq(&self, tenant: TenantId, hash: &str) -> String {
        format!("{}:apq:{hash}", self.tenant(tenant))
    }

    /// A rate limiter's bucket: the tenant's (`token: None`) or one token's
    /// (by a hash of the token).
    pub fn rate_bucket(&self, tenant: TenantId, token: Option<&str>) -> String {
        match token {
            None => format!("{}:rate:tenant", self.tenant(tenant)),
            Some(token) => format!(
                "{}:rate:token:{}",
                self.tenant(tenant),
                short_hash(token.as_bytes())
            ),
        }
    }

    /// The lock that lets one instance compute a missing entry.
    pub fn lock(entry: &str) -> String {
        format!("{entry}:lock")
    }

    /// Pub/sub channels are not keys, but share the prefix so that
    /// deployments sharing a Redis stay apart.
    pub fn channel(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_names_its_tenant_as_a_hash_tag() {
        let keys = Keys::new("fx", "abc");
        let tenant = TenantId(Uuid::nil());
        let braced = format!("{{{}}}", Uuid::nil());
        for key in [
            keys.entry(tenant, "orderStats", None, &30),
            keys.loaded(tenant, "order", "123"),
            keys.tag_members(tenant, "aggregates"),
            keys.tag_version(tenant, "aggregates"),
            Keys::lock(&keys.entry(tenant, "orderStats", Some(Role::Viewer), &30)),
        ] {
            assert!(key.starts_with("fx:t:") && key.contains(&braced), "{key}");
        }
    }

    #[test]
    fn keys_differ_by_arguments_role_and_version() {
        let tenant = TenantId(Uuid::nil());
        let keys = Keys::new("fx", "1");
        let base = keys.entry(tenant, "orderStats", None, &30);
        assert_ne!(base, keys.entry(tenant, "orderStats", None, &7));
        assert_ne!(
            base,
            keys.entry(tenant, "orderStats", Some(Role::Admin), &30)
        );
        assert_ne!(
            base,
            Keys::new("fx", "2").entry(tenant, "orderStats", None, &30)
        );
        assert_eq!(base, keys.entry(tenant, "orderStats", None, &30));
    }
}
