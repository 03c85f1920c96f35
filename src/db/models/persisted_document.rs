//! `persisted_clients` and `persisted_documents`: registered documents, by
//! client. Not tenant-owned (see the migration).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::db::schema::{persisted_clients, persisted_documents, persisted_registry};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = persisted_clients)]
pub struct PersistedClient {
    pub name: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = persisted_documents)]
pub struct PersistedDocument {
    pub client_name: String,
    pub id: String,
    pub sha256: String,
    pub normalized_sha256: String,
    pub operation_name: Option<String>,
    pub body: String,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub removed: usize,
}

impl PersistedDocument {
    /// Makes `client`'s documents exactly `documents`, in one transaction
    /// (importing the same manifest again changes nothing). A new client is
    /// enabled; an existing one keeps its state: re-importing never
    /// re-enables a revoked client.
    pub async fn import(
        connection: &mut AsyncPgConnection,
        client: &str,
        documents: Vec<PersistedDocument>,
    ) -> QueryResult<ImportCounts> {
        connection
            .transaction(async |connection| {
                diesel::insert_into(persisted_clients::table)
                    .values(persisted_clients::name.eq(client))
                    .on_conflict_do_nothing()
                    .execute(connection)
                    .await?;
                let existing: Vec<(String, String)> = persisted_documents::table
                    .filter(persisted_documents::client_name.eq(client))
                    .select((persisted_documents::id, persisted_documents::sha256))
                    .load(connection)
                    .await?;
                let mut counts = ImportCounts::default();
                for document in &documents {
                    match existing.iter().find(|(id, _)| *id == document.id) {
                        None => counts.added += 1,
                        Some((_, sha256)) if *sha256 == document.sha256 => counts.unchanged += 1,
                        Some(_) => counts.changed += 1,
                    }
                }
                let ids: Vec<&str> = documents
                    .iter()
                    .map(|document| document.id.as_str())
                    .collect();
                counts.removed = diesel::delete(persisted_documents::table)
                    .filter(persisted_documents::client_name.eq(client))
                    .filter(persisted_documents::id.ne_all(&ids))
                    .execute(connection)
                    .await?;
                diesel::insert_into(persisted_documents::table)
                    .values(&documents)
                    .on_conflict((persisted_documents::client_name, persisted_documents::id))
                    .do_update()
                    .set((
                        persisted_documents::sha256
                            .eq(diesel::upsert::excluded(persisted_documents::sha256)),
                        persisted_documents::normalized_sha256.eq(diesel::upsert::excluded(
                            persisted_documents::normalized_sha256,
                        )),
                        persisted_documents::operation_name.eq(diesel::upsert::excluded(
                            persisted_documents::operation_name,
                        )),
                        persisted_documents::body
                            .eq(diesel::upsert::excluded(persisted_documents::body)),
                    ))
                    .execute(connection)
                    .await?;
                if counts
                    != (ImportCounts {
                        unchanged: documents.len(),
                        ..ImportCounts::default()
                    })
                {
                    bump_version(connection).await?;
                }
                Ok(counts)
            })
            .await
    }

    /// Every document of the enabled clients, with its client.
    pub async fn load_enabled(connection: &mut AsyncPgConnection) -> QueryResult<Vec<Self>> {
        persisted_documents::table
            .inner_join(persisted_clients::table)
            .filter(persisted_clients::enabled.eq(true))
            .order((persisted_documents::client_name, persisted_documents::id))
            .select(Self::as_select())
            .load(connection)
            .await
    }

    /// The documents of `client`, or of every client.
    pub async fn list(
        connection: &mut AsyncPgConnection,
        client: Option<&str>,
    ) -> QueryResult<Vec<Self>> {
        let mut query = persisted_documents::table
            .order((persisted_documents::client_name, persisted_documents::id))
            .select(Self::as_select())
            .into_boxed();
        if let Some(client) = client {
            query = query.filter(persisted_documents::client_name.eq(client.to_owned()));
        }
        query.load(connection).await
    }
}

impl PersistedClient {
    pub async fn all(connection: &mut AsyncPgConnection) -> QueryResult<Vec<Self>> {
        persisted_clients::table
            .order(persisted_clients::name)
            .select(Self::as_select())
            .load(connection)
            .await
    }

    /// Enables or revokes all of a client's documents; `false` when there
    /// is no such client.
    pub async fn set_enabled(
        connection: &mut AsyncPgConnection,
        client: &str,
        enabled: bool,
    ) -> QueryResult<bool> {
        connection
            .transaction(async |connection| {
                let updated = diesel::update(persisted_clients::table)
                    .filter(persisted_clients::name.eq(client))
                    .set((
                        persisted_clients::enabled.eq(enabled),
                        persisted_clients::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(connection)
                    .await?;
                if updated > 0 {
                    bump_version(connection).await?;
                }
                Ok(updated > 0)
            })
            .await
    }
}

/// The registry's version: raised by every change, polled by services.
pub async fn registry_version(connection: &mut AsyncPgConnection) -> QueryResult<i64> {
    persisted_registry::table
        .select(persisted_registry::version)
        .first(connection)
        .await
}

async fn bump_version(connection: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::update(persisted_registry::table)
        .set(persisted_registry::version.eq(persisted_registry::version + 1))
        .execute(connection)
        .await
        .map(drop)
}
