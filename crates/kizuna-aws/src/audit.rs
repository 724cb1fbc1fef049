//! The audit trail of `kizuna household show|export|delete`: who looked at or erased which
//! parent's data, when — with a fingerprint of the LINE user id, never the id.
//!
//! Stored in the `deliveries` table (layout in [`crate::schema::audit`]), without TTL: a
//! town must be able to show how a resident's request was handled.

use crate::error::store_error;
use crate::item::{opt_s, s};
use crate::paging::{query_all, Keep};
use crate::schema::audit::{
    ACTION, AT, MUNICIPALITY, OPERATOR, OUTCOME, PK_PREFIX, USER_FINGERPRINT,
};
use crate::schema::deliveries::{PK, SK};
use chrono::{DateTime, SecondsFormat, Utc};
use kizuna_app::ports::{StoreError, StoreResult};
use kizuna_core::MunicipalityId;
use sha2::{Digest, Sha256};
use std::hash::{BuildHasher, Hasher};

/// The audit fingerprint of what an operator gave as a LINE user id: the first 16 hex digits
/// of SHA-256 over `"kizuna-audit-v1:"` and the text. Stable, so two records about the same
/// parent can be matched; not the id, and not the logs' fingerprint (another prefix), so an
/// audit record cannot be joined to log lines by anyone without the id.
pub fn audit_fingerprint(given: &str) -> String {
    let digest = Sha256::digest(format!("kizuna-audit-v1:{given}"));
    hex::encode(&digest[..8])
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: DateTime<Utc>,
    pub operator: String,
    /// `show`, `export`, `delete`, or `refused` (no usable id was given).
    pub action: String,
    pub municipality: MunicipalityId,
    pub user_fingerprint: String,
    /// What was found or done, in words and counts: never an id or a date.
    pub outcome: String,
}

/// The audit trail on the `deliveries` table.
#[derive(Debug, Clone)]
pub struct DynamoAuditLog {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn audit_pk(municipality: &MunicipalityId) -> String {
    format!("{PK_PREFIX}{}", municipality.as_str())
}

fn random_hex6() -> String {
    // A per-call random key from std's randomly seeded hasher: enough to keep two records
    // of one second apart; the conditional put below refuses an (unlikely) collision.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Utc::now().timestamp_nanos_opt().unwrap_or_default() as u128);
    format!("{:06x}", h.finish() & 0xff_ffff)
}

impl DynamoAuditLog {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Appends `record` (never overwrites one).
    pub async fn append(&self, record: &AuditRecord) -> StoreResult<()> {
        let at = record.at.to_rfc3339_opts(SecondsFormat::Millis, true);
        for _ in 0..3 {
            let sk = format!("{at}#{}#{}", record.action, random_hex6());
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .item(PK, s(audit_pk(&record.municipality)))
                .item(SK, s(sk))
                .item(AT, s(&at))
                .item(OPERATOR, s(&record.operator))
                .item(ACTION, s(&record.action))
                .item(MUNICIPALITY, s(record.municipality.as_str()))
                .item(USER_FINGERPRINT, s(&record.user_fingerprint))
                .item(OUTCOME, s(&record.outcome))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .send()
                .await
                .map_err(|e| store_error("PutItem audit record", e));
            match result {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// Every record of `municipality`, oldest first.
    pub async fn list(&self, municipality: &MunicipalityId) -> StoreResult<Vec<AuditRecord>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(audit_pk(municipality)));
        query_all(query, "Query audit records", |item| {
            let text = |name| opt_s(&item, name).unwrap_or_default();
            let at = DateTime::parse_from_rfc3339(&text(AT))
                .map_err(|_| StoreError::Corrupt("audit record time".into()))?
                .with_timezone(&Utc);
            Ok(Keep::Value(AuditRecord {
                at,
                operator: text(OPERATOR),
                action: text(ACTION),
                municipality: municipality.clone(),
                user_fingerprint: text(USER_FINGERPRINT),
                outcome: text(OUTCOME),
            }))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_the_documented_one_and_not_the_id() {
        // Computed independently: printf 'kizuna-audit-v1:U000…0' | sha256sum | cut -c1-16
        let id = "U00000000000000000000000000000000";
        let fp = audit_fingerprint(id);
        assert_eq!(fp.len(), 16);
        assert!(!fp.contains(&id[1..9]));
        assert_eq!(fp, EXPECTED_FOR_ZERO_ID);
    }

    const EXPECTED_FOR_ZERO_ID: &str = "774f0577ac8808b3";
}
