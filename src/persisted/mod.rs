//! Persisted documents: which document a request runs.
//!
//! - **Registered documents** (trusted documents) come from manifests
//!   imported by `fulexo persisted import` into PostgreSQL. Every service
//!   keeps the enabled ones parsed and validated in memory (reloaded when
//!   the registry's version moves), so calling one skips both. They are
//!   called by `documentId` (`sha256:<hash>` or the manifest's id), by
//!   Apollo's `extensions.persistedQuery.sha256Hash`, or by Relay's
//!   `doc_id`/`id`.
//! - **Automatic persisted queries** (Apollo's protocol): a hash alone runs
//!   the document stored under it, or answers `PERSISTED_QUERY_NOT_FOUND`
//!   so that the client sends the text, which is stored under its hash
//!   (checked to be its own). Off whenever a safelist is on.
//! - **Free-form text** is allowed, logged, allowed only when registered
//!   (compared in normal form), or refused, by [`SafelistMode`].

pub mod apq;
pub mod manifest;
pub mod normalize;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_graphql::Request;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use secrecy::{ExposeSecret, SecretString};

use crate::db::models::persisted_document::{self, ImportCounts, PersistedDocument};
use crate::db::{Database, TenantId};
use crate::graphql::AppSchema;
use apq::ApqStore;

/// Which free-form documents run (`PERSISTED_QUERIES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafelistMode {
    /// Any document (the development default).
    AllowAll,
    /// Any document; those not registered are logged.
    LogUnknown,
    /// Free-form text only when its normal form is registered.
    Safelist,
    /// Registered documents by id only.
    IdsOnly,
}

impl SafelistMode {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "allow_all" => Some(Self::AllowAll),
            "log_unknown" => Some(Self::LogUnknown),
            "safelist" => Some(Self::Safelist),
            "ids_only" => Some(Self::IdsOnly),
            _ => None,
        }
    }

    /// APQ would let anyone register anything: only without a safelist.
    pub fn accepts_apq_registration(self) -> bool {
        matches!(self, Self::AllowAll | Self::LogUnknown)
    }
}

/// A registered document, parsed and validated once.
pub struct Prepared {
    pub id: String,
    pub client: String,
    pub body: Arc<str>,
    document: ExecutableDocument,
}

impl Prepared {
    /// The document, parsed when it was registered.
    pub fn document(&self) -> &ExecutableDocument {
        &self.document
    }
}

/// The type of the operation a request would run, when the document names
/// one (otherwise execution reports the problem).
pub fn operation_type(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation.node.ty),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .iter()
            .find(|(operation_name, _)| operation_name.as_str() == name)
            .map(|(_, operation)| operation.node.ty),
        // A single named operation needs no name to be selected.
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
            .values()
            .next()
            .map(|operation| operation.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The document a request runs.
pub enum Document {
    Text(Arc<str>),
    Registered(Arc<Prepared>),
}

/// What a request says about its document.
#[derive(Debug, Default, Clone)]
pub struct DocumentRequest {
    pub query: Option<String>,
    /// `documentId`, Relay's `doc_id` or `id`.
    pub document_id: Option<String>,
    /// `extensions.persistedQuery`: (version, sha256Hash).
    pub apq: Option<(i64, String)>,
}

/// Why a request's document cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No document under this hash or id (`PERSISTED_QUERY_NOT_FOUND`).
    NotFound { apq: bool },
    /// Malformed: no document at all, a hash that is not the text's own, an
    /// unknown APQ version.
    BadRequest(String),
    /// A free-form document the safelist does not allow.
    NotAllowed(String),
}

#[derive(Default)]
struct Registry {
    version: i64,
    by_id: HashMap<String, Arc<Prepared>>,
    by_sha256: HashMap<String, Arc<Prepared>>,
    by_normalized: HashMap<String, Arc<Prepared>>,
}

struct DocumentsInner {
    schema: AppSchema,
    database: Database,
    mode: SafelistMode,
    registry: RwLock<Arc<Registry>>,
    apq: ApqStore,
    /// When the registry's version was last read on a miss.
    checked: Mutex<Option<Instant>>,
}

/// Registered documents and APQ, for the request handler.
#[derive(Clone)]
pub struct Documents(Arc<DocumentsInner>);

/// A miss checks the registry's version at most this often (an id
/// imported a moment ago runs at once; a flood of unknown ids costs one
/// statement a second).
const MISS_CHECK_INTERVAL: Duration = Duration::from_secs(1);

impl Documents {
    pub fn new(schema: AppSchema, database: Database, mode: SafelistMode, apq: ApqStore) -> Self {
        Self(Arc::new(DocumentsInner {
            schema,
            database,
            mode,
            registry: RwLock::new(Arc::new(Registry::default())),
            apq,
            checked: Mutex::new(None),
        }))
    }

    pub fn mode(&self) -> SafelistMode {
        self.0.mode
    }

    fn registry(&self) -> Arc<Registry> {
        self.0
            .registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reloads the registered documents if the registry changed; returns
    /// how many are loaded.
    pub async fn reload_if_changed(&self) -> anyhow::Result<usize> {
        let mut connection = self.0.database.get().await?;
        let version = persisted_document::registry_version(&mut connection).await?;
        let current = self.registry();
        if version == current.version && current.version != 0 {
            return Ok(current.by_id.len());
        }
        let documents = PersistedDocument::load_enabled(&mut connection).await?;
        drop(connection);
        let mut registry = Registry {
            version,
            ..Registry::default()
        };
        for document in documents {
            let parsed = match prepare(&self.0.schema, &document.body).await {
                Ok(prepared) => prepared,
                Err(errors) => {
                    tracing::error!(client = %document.client_name, id = %document.id, ?errors,
                        "registered document no longer valid against the schema: not served");
                    continue;
                }
            };
            let prepared = Arc::new(Prepared {
                id: document.id.clone(),
                client: document.client_name.clone(),
                body: document.body.into(),
                document: parsed,
            });
            registry
                .by_id
                .entry(document.id)
                .or_insert_with(|| prepared.clone());
            registry
                .by_sha256
                .entry(document.sha256)
                .or_insert_with(|| prepared.clone());
            registry
                .by_normalized
                .entry(document.normalized_sha256)
                .or_insert(prepared);
        }
        let loaded = registry.by_id.len();
        *self.0.registry.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(registry);
        tracing::info!(documents = loaded, version, "registered documents loaded");
        Ok(loaded)
    }

    /// Keeps the registry current: every `interval`, a one-row read.
    pub fn spawn_reloader(&self, interval: Duration) {
        let documents = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = documents.reload_if_changed().await {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "reloading registered documents failed"
                    );
                }
            }
        });
    }

    /// After a miss: reload if the registry moved (at most once a second).
    async fn recheck(&self) -> bool {
        {
            let mut checked = self.0.checked.lock().unwrap_or_else(|e| e.into_inner());
            if checked.is_some_and(|at| at.elapsed() < MISS_CHECK_INTERVAL) {
                return false;
            }
            *checked = Some(Instant::now());
        }
        let before = self.registry().version;
        self.reload_if_changed().await.is_ok() && self.registry().version != before
    }

    async fn registered(
        &self,
        find: impl Fn(&Registry) -> Option<Arc<Prepared>>,
    ) -> Option<Arc<Prepared>> {
        if let Some(found) = find(&self.registry()) {
            return Some(found);
        }
        if self.recheck().await {
            return find(&self.registry());
        }
        None
    }

    /// The document `request` runs for `tenant`, or why it cannot.
    pub async fn resolve(
        &self,
        tenant: TenantId,
        request: DocumentRequest,
    ) -> Result<Document, Refusal> {
        if let Some(id) = &request.document_id {
            let prepared = match id.strip_prefix("sha256:") {
                Some(hash) => {
                    let hash = hash.to_ascii_lowercase();
                    self.registered(|registry| registry.by_sha256.get(&hash).cloned())
                        .await
                }
                None => {
                    self.registered(|registry| registry.by_id.get(id).cloned())
                        .await
                }
            };
            return prepared
                .map(Document::Registered)
                .ok_or(Refusal::NotFound { apq: false });
        }

        if let Some((version, hash)) = &request.apq {
            if *version != 1 {
                return Err(Refusal::BadRequest(format!(
                    "persisted query version {version} is not supported (1 is)"
                )));
            }
            let hash = hash.to_ascii_lowercase();
            if let Some(query) = &request.query
                && normalize::sha256_hex(query) != hash
            {
                return Err(Refusal::BadRequest(
                    "provided sha256Hash does not match the query".into(),
                ));
            }
            if let Some(prepared) = self
                .registered(|registry| registry.by_sha256.get(&hash).cloned())
                .await
            {
                return Ok(Document::Registered(prepared));
            }
            if self.0.mode.accepts_apq_registration() {
                return match &request.query {
                    Some(query) => {
                        self.0.apq.put(tenant, &hash, query).await;
                        self.free_form(query).await
                    }
                    None => match self.0.apq.get(tenant, &hash).await {
                        Some(text) => self.free_form(&text).await,
                        None => Err(Refusal::NotFound { apq: true }),
                    },
                };
            }
            return match &request.query {
                Some(query) => self.free_form(query).await,
                None => Err(Refusal::NotFound { apq: true }),
            };
        }

        match &request.query {
            Some(query) => self.free_form(query).await,
            None => Err(Refusal::BadRequest(
                "the request has no `query` (nor a `documentId` or persisted query hash)".into(),
            )),
        }
    }

    /// Free-form text, as the safelist mode allows it.
    async fn free_form(&self, query: &str) -> Result<Document, Refusal> {
        match self.0.mode {
            SafelistMode::AllowAll => Ok(Document::Text(query.into())),
            SafelistMode::LogUnknown => {
                if self.registered_text(query).await.is_none() {
                    tracing::warn!(
                        sha256 = %normalize::sha256_hex(query),
                        "unregistered document run (PERSISTED_QUERIES=log_unknown)"
                    );
                }
                Ok(Document::Text(query.into()))
            }
            SafelistMode::Safelist => self
                .registered_text(query)
                .await
                .map(Document::Registered)
                .ok_or_else(|| {
                    Refusal::NotAllowed(
                    "this document is not registered: this server runs registered documents only \
                     (PERSISTED_QUERIES=safelist); register it with your client's manifest"
                        .into(),
                )
                }),
            SafelistMode::IdsOnly => Err(Refusal::NotAllowed(
                "this server runs registered documents by id only (PERSISTED_QUERIES=ids_only): \
                 send a `documentId` instead of a `query`"
                    .into(),
            )),
        }
    }

    /// The registered document this text is, exactly or in normal form.
    async fn registered_text(&self, query: &str) -> Option<Arc<Prepared>> {
        let exact = normalize::sha256_hex(query);
        if let Some(found) = self.registry().by_sha256.get(&exact) {
            return Some(found.clone());
        }
        let normalized = normalize::normalized_sha256(query)?;
        self.registered(|registry| registry.by_normalized.get(&normalized).cloned())
            .await
    }
}

/// Parses and validates `body` with `validation_schema` (see
/// `graphql::build_checking_schema`), without running it.
pub async fn prepare(
    validation_schema: &AppSchema,
    body: &str,
) -> Result<ExecutableDocument, Vec<String>> {
    let document =
        async_graphql::parser::parse_query(body).map_err(|error| vec![error.to_string()])?;
    let response = validation_schema.execute(Request::new(body)).await;
    if !response.errors.is_empty() {
        return Err(response
            .errors
            .into_iter()
            .map(|error| error.message)
            .collect());
    }
    Ok(document)
}

/// `fulexo persisted import`: validates every document of the manifest
/// against the schema (all or nothing), then makes `client`'s registered
/// documents exactly the manifest's.
pub async fn import(
    database_url: &SecretString,
    manifest_text: &str,
    client: Option<&str>,
) -> anyhow::Result<(String, ImportCounts)> {
    let schema = &crate::graphql::build_checking_schema(Default::default(), false);
    let manifest = manifest::parse(manifest_text)?;
    let client = client
        .map(str::to_owned)
        .or(manifest.client_name.clone())
        .context("name the client: the manifest has no clientName, so pass --client NAME")?;
    let mut documents = Vec::with_capacity(manifest.documents.len());
    let mut invalid = Vec::new();
    for document in manifest.documents {
        match prepare(schema, &document.body).await {
            Ok(parsed) => {
                let operation_name = document
                    .name
                    .clone()
                    .or_else(|| first_operation_name(&parsed));
                documents.push(PersistedDocument {
                    client_name: client.clone(),
                    sha256: normalize::sha256_hex(&document.body),
                    normalized_sha256: normalize::normalized_sha256(&document.body)
                        .unwrap_or_default(),
                    operation_name,
                    id: document.id,
                    body: document.body,
                });
            }
            Err(errors) => invalid.push(format!("{}: {}", document.id, errors.join("; "))),
        }
    }
    if !invalid.is_empty() {
        anyhow::bail!(
            "nothing imported: {} document(s) do not validate against the schema:\n  {}",
            invalid.len(),
            invalid.join("\n  ")
        );
    }
    let mut connection = AsyncPgConnection::establish(database_url.expose_secret())
        .await
        .context("connecting to PostgreSQL")?;
    let counts = PersistedDocument::import(&mut connection, &client, documents).await?;
    Ok((client, counts))
}

fn first_operation_name(document: &ExecutableDocument) -> Option<String> {
    match &document.operations {
        DocumentOperations::Single(_) => None,
        DocumentOperations::Multiple(operations) => {
            operations.keys().next().map(ToString::to_string)
        }
    }
}
