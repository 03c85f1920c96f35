//! `users`: the people a token names.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::auth::Role;
use crate::db::TenantId;
use crate::db::schema::users;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

impl User {
    /// The tenant's longest-standing user with `role` (`fulexo token`).
    pub async fn first_with_role(
        connection: &mut AsyncPgConnection,
        tenant: TenantId,
        role: Role,
    ) -> QueryResult<Option<Self>> {
        users::table
            .filter(users::tenant_id.eq(tenant.0))
            .filter(users::role.eq(role.as_str()))
            .order((users::created_at, users::id))
            .select(Self::as_select())
            .first(connection)
            .await
            .optional()
    }

    /// The tenant's user with this e-mail (an exact match on the hash index).
    pub async fn find_by_email(
        connection: &mut AsyncPgConnection,
        tenant: TenantId,
        email: &str,
    ) -> QueryResult<Option<Self>> {
        Self::find_by_email_query(tenant, email)
            .first(connection)
            .await
            .optional()
    }

    /// The statement of [`Self::find_by_email`].
    pub fn find_by_email_query(
        tenant: TenantId,
        email: &str,
    ) -> users::BoxedQuery<'_, Pg, diesel::dsl::AsSelect<Self, Pg>> {
        users::table
            .filter(users::email.eq(email))
            .filter(users::tenant_id.eq(tenant.0))
            .select(Self::as_select())
            .into_boxed()
    }
}
