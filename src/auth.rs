//! Who is asking: HS256 JWTs with the contract's claims (`sub`, `tenant_id`,
//! `role`, `exp`), issued by `fulexo token` and checked on every request.
//!
//! Without `JWT_SECRET` (development only), the secret is generated once and
//! kept under the data folder, so that the server and `fulexo token` agree.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::TenantId;
use crate::error::AppError;

const SECRET_FILE: &str = "jwt-secret";

/// What a user may do within their tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    Admin,
    Member,
    /// Reads only: every mutation is `FORBIDDEN`.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Member => "MEMBER",
            Self::Viewer => "VIEWER",
        }
    }

    pub fn can_write(self) -> bool {
        self != Self::Viewer
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_uppercase().as_str() {
            "ADMIN" => Ok(Self::Admin),
            "MEMBER" => Ok(Self::Member),
            "VIEWER" => Ok(Self::Viewer),
            _ => Err(format!(
                "unknown role `{value}`: use ADMIN, MEMBER or VIEWER"
            )),
        }
    }
}

/// The token's claims, as the contract names them.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    tenant_id: Uuid,
    role: Role,
    exp: u64,
    iat: u64,
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: Uuid,
    pub tenant: TenantId,
    pub role: Role,
}

/// Signs and checks tokens with one HS256 secret.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens already verified, with their caller and expiry: a client
    /// sends the same token with every request, and checking it again
    /// (base64, HMAC-SHA256, JSON) was 5% of the service's instructions
    /// for `OrderDetail`. Only tokens that passed are kept, so a forged one
    /// is checked in full every time.
    verified: moka::sync::Cache<Box<str>, (Viewer, u64)>,
}

/// How many verified tokens are remembered.
const VERIFIED_TOKENS: u64 = 10_000;

impl JwtKeys {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        // Clocks of issuers and this service drift a little, not minutes.
        validation.leeway = 30;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            verified: moka::sync::Cache::new(VERIFIED_TOKENS),
        }
    }

    /// A token for `viewer`, valid for `ttl`.
    pub fn issue(&self, viewer: Viewer, ttl: Duration) -> anyhow::Result<String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: viewer.user_id,
            tenant_id: viewer.tenant.0,
            role: viewer.role,
            iat: now,
            exp: now + ttl.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("signing a token")
    }

    /// The caller a bearer token names; expired, forged or malformed tokens
    /// are all `UNAUTHENTICATED`, without saying which (that would help
    /// forgers).
    pub fn verify(&self, token: &str) -> Result<Viewer, AppError> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some((viewer, expires)) = self.verified.get(token) {
            // As jsonwebtoken judges `exp`, with the same leeway.
            if now.saturating_sub(self.validation.leeway) <= expires {
                return Ok(viewer);
            }
            self.verified.invalidate(token);
            return Err(AppError::Unauthenticated);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|error| {
                tracing::debug!(%error, "token refused");
                AppError::Unauthenticated
            })?;
        let viewer = Viewer {
            user_id: data.claims.sub,
            tenant: TenantId(data.claims.tenant_id),
            role: data.claims.role,
        };
        self.verified
            .insert(token.into(), (viewer, data.claims.exp));
        Ok(viewer)
    }
}

/// `JWT_SECRET` if set, else the development secret under `data_dir`
/// (created on first use, readable by its owner only).
pub fn resolve_secret(
    configured: Option<&SecretString>,
    data_dir: &Path,
) -> anyhow::Result<SecretString> {
    if let Some(secret) = configured {
        return Ok(secret.clone());
    }
    let path = data_dir.join(SECRET_FILE);
    if let Ok(secret) = fs::read_to_string(&path) {
        return Ok(SecretString::from(secret.trim().to_owned()));
    }
    fs::create_dir_all(data_dir)
        .with_context(|| format!("creating the data folder {}", data_dir.display()))?;
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let mut file = open_private(&path)
        .with_context(|| format!("writing the development secret {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    tracing::info!(path = %path.display(), "JWT_SECRET is not set: generated a development secret");
    Ok(SecretString::from(secret))
}

fn open_private(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::new(&SecretString::from(secret.to_owned()))
    }

    fn viewer() -> Viewer {
        Viewer {
            user_id: Uuid::new_v4(),
            tenant: TenantId(Uuid::new_v4()),
            role: Role::Member,
        }
    }

    #[test]
    fn a_token_round_trips_to_the_same_viewer() {
        let keys = keys("secret");
        let viewer = viewer();
        let token = keys.issue(viewer, Duration::from_secs(60)).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), viewer);
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = keys("one")
            .issue(viewer(), Duration::from_secs(60))
            .unwrap();
        assert!(matches!(
            keys("two").verify(&token),
            Err(AppError::Unauthenticated)
        ));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = keys("secret");
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: Uuid::new_v4(),
            tenant_id: Uuid::new_v4(),
            role: Role::Admin,
            iat: now - 7200,
            exp: now - 3600,
        };
        let token = jsonwebtoken::encode(&Header::default(), &claims, &keys.encoding).unwrap();
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn a_remembered_token_is_refused_once_it_expires() {
        let keys = keys("secret");
        let viewer = viewer();
        let token = keys.issue(viewer, Duration::from_secs(60)).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), viewer);
        assert_eq!(keys.verify(&token).unwrap(), viewer);
        // As if an hour had passed since it was verified.
        let expired = jsonwebtoken::get_current_timestamp() - 3600;
        keys.verified
            .insert(token.as_str().into(), (viewer, expired));
        assert!(matches!(
            keys.verify(&token),
            Err(AppError::Unauthenticated)
        ));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        // {"alg":"none"} with valid-looking claims.
        let header = base64_url(r#"{"alg":"none","typ":"JWT"}"#);
        let body = base64_url(&format!(
            r#"{{"sub":"{}","tenant_id":"{}","role":"ADMIN","exp":{}}}"#,
            Uuid::new_v4(),
            Uuid::new_v4(),
            jsonwebtoken::get_current_timestamp() + 600
        ));
        assert!(keys("secret").verify(&format!("{header}.{body}.")).is_err());
    }

    fn base64_url(text: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }
}
