//! `fulexo token`: a valid token for one of a tenant's users.

use std::time::Duration;

use anyhow::Context;
use diesel_async::AsyncConnection;
use diesel_async::AsyncPgConnection;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::{self, JwtKeys, Role, Viewer};
use crate::config::Config;
use crate::db::TenantId;
use crate::db::models::{Tenant, User};

pub async fn issue(
    config: &Config,
    database_url: &SecretString,
    slug: &str,
    role: Role,
    email: Option<&str>,
    ttl: Duration,
) -> anyhow::Result<String> {
    let mut connection = AsyncPgConnection::establish(database_url.expose_secret())
        .await
        .context("connecting to PostgreSQL")?;
    let tenant = Tenant::find_by_slug(&mut connection, slug)
        .await?
        .with_context(|| {
            format!("no tenant `{slug}`: seed one with `fulexo seed`, or check the slug")
        })?;
    let tenant = TenantId(tenant.id);
    let user = match email {
        Some(email) => User::find_by_email(&mut connection, tenant, email)
            .await?
            .with_context(|| format!("tenant `{slug}` has no user `{email}`"))?,
        None => User::first_with_role(&mut connection, tenant, role)
            .await?
            .with_context(|| {
                format!(
                    "tenant `{slug}` has no {} user: pass --email, or another --role",
                    role.as_str()
                )
            })?,
    };
    let role = user
        .role
        .parse::<Role>()
        .map_err(|error| anyhow::anyhow!("user {}: {error}", user.id))?;
    let secret = auth::resolve_secret(config.jwt_secret.as_ref(), &config.data_dir)?;
    JwtKeys::new(&secret).issue(
        Viewer {
            user_id: user.id,
            tenant,
            role,
        },
        ttl,
    )
}
