//! Where a request's reads run. A query's reads share one pooled
//! connection, so that what its loaders send at once (a page's items and
//! shipments; an order with its items, shipments and invoices) leaves as
//! one pipeline: one write, one wake-up of one PostgreSQL backend, where a
//! connection per statement took one of each per statement.

use std::ops::Deref;
use std::sync::Arc;

use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use tokio::sync::OnceCell;

use crate::db::{Database, DbConnection};
use crate::error::AppError;

type OwnedConnection =
    bb8::PooledConnection<'static, AsyncDieselConnectionManager<AsyncPgConnection>>;

/// The connection (or connections) a request reads through. Cloning it
/// shares the same connection.
#[derive(Clone)]
pub struct Reads {
    database: Database,
    /// `None`: a connection per read.
    shared: Option<Arc<OnceCell<OwnedConnection>>>,
}

impl Reads {
    /// One connection for all the reads of a query, checked out at the
    /// first read and back in the pool when the last clone is dropped (the
    /// request's context, with its loaders, at the end of execution).
    pub fn shared(database: &Database) -> Self {
        Self {
            database: database.clone(),
            shared: Some(Arc::default()),
        }
    }

    /// A connection per read, from the pool each time. For mutations, which
    /// hold a connection of their own for each write's transaction: a shared
    /// one held beside it would have each such request hold two, and a full
    /// pool of them wait on each other until the pool timeout.
    pub fn per_read(database: &Database) -> Self {
        Self {
            database: database.clone(),
            shared: None,
        }
    }

    /// The pool the connections come from.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// A connection to read through. Reads that run at the same time on a
    /// shared connection are pipelined by it.
    pub async fn get(&self) -> Result<ReadConnection<'_>, AppError> {
        match &self.shared {
            Some(cell) => {
                let connection = cell.get_or_try_init(|| self.database.get_owned()).await?;
                Ok(ReadConnection::Shared(connection))
            }
            None => Ok(ReadConnection::Own(Box::new(self.database.get().await?))),
        }
    }
}

/// A connection from [`Reads::get`].
pub enum ReadConnection<'a> {
    Shared(&'a AsyncPgConnection),
    /// Boxed: a pooled connection is large, and the shared case is the
    /// common one.
    Own(Box<DbConnection<'a>>),
}

impl Deref for ReadConnection<'_> {
    type Target = AsyncPgConnection;

    fn deref(&self) -> &AsyncPgConnection {
        match self {
            Self::Shared(connection) => connection,
            Self::Own(connection) => connection,
        }
    }
}
