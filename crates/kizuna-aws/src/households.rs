use crate::error::{corrupt, store_error};
use crate::item::{get_s, japan_midnight_epoch, n, s, Item};
use crate::schema::households::{
    EXPIRES_AT, FOLLOWING, GSI_DELIVERABLE, PK, SEND_SHARD, SK, UNFOLLOWED_ON, VERSION,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use kizuna_app::model::{fanout_bucket, retention_ends, Page, Shard};
use kizuna_app::ports::{HouseholdStore, StoreError, StoreResult};
use kizuna_core::{Household, LineUserId, MunicipalityId};

/// [`HouseholdStore`] on the `households` table. See `docs/data-model.md`.
#[derive(Debug, Clone)]
pub struct DynamoHouseholdStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoHouseholdStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// The GSI partition key of one fan-out bucket.
pub(crate) fn send_shard_key(municipality: &MunicipalityId, bucket: u16) -> String {
    format!("{}#{bucket:02}", municipality.as_str())
}

/// The stored item of `household` at `version`: the household itself plus the table keys,
/// the sparse fan-out key while it receives messages, and the retention TTL while unfollowed.
fn to_item(household: &Household, version: u64) -> StoreResult<Item> {
    let mut stored = household.clone();
    stored.version = version;
    let mut item: Item = serde_dynamo::to_item(&stored).map_err(|e| corrupt("household", e))?;
    item.insert(PK.into(), s(household.municipality.as_str()));
    item.insert(SK.into(), s(household.user.as_str()));
    if household.receives_messages() {
        let bucket = fanout_bucket(&household.user);
        item.insert(
            SEND_SHARD.into(),
            s(send_shard_key(&household.municipality, bucket)),
        );
    }
    if let (false, Some(on)) = (household.following, household.unfollowed_on) {
        item.insert(
            EXPIRES_AT.into(),
            n(japan_midnight_epoch(retention_ends(on))),
        );
    }
    Ok(item)
}

fn from_item(item: Item) -> StoreResult<Household> {
    serde_dynamo::from_item(item).map_err(|e| corrupt("household item", e))
}

/// Fan-out cursor: the position in the shard's bucket list and the last user returned in that
/// bucket (`None`: start of the bucket). Text form `"{bucket}:{user id or empty}"`.
#[derive(Debug, PartialEq)]
struct FanoutCursor {
    bucket: u16,
    after: Option<String>,
}

impl FanoutCursor {
    fn encode(&self) -> String {
        format!("{}:{}", self.bucket, self.after.as_deref().unwrap_or(""))
    }

    fn decode(s: &str) -> StoreResult<Self> {
        let bad = || StoreError::Corrupt("invalid fan-out cursor".into());
        let (bucket, after) = s.split_once(':').ok_or_else(bad)?;
        let bucket = bucket.parse().map_err(|_| bad())?;
        let after = match after {
            "" => None,
            user => Some(
                LineUserId::parse(user)
                    .map_err(|_| bad())?
                    .as_str()
                    .to_owned(),
            ),
        };
        Ok(Self { bucket, after })
    }
}

#[async_trait]
impl HouseholdStore for DynamoHouseholdStore {
    async fn get(
        &self,
        municipality: &MunicipalityId,
        user: &LineUserId,
    ) -> StoreResult<Option<Household>> {
        // Consistent: the caller is about to write conditionally on the version it reads.
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(municipality.as_str()))
            .key(SK, s(user.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem household", e))?;
        out.item.map(from_item).transpose()
    }

    async fn save(&self, household: &Household) -> StoreResult<u64> {
        let next = household.version + 1;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(household, next)?));
        let put = if household.version == 0 {
            put.condition_expression("attribute_not_exists(#sk)")
                .expression_attribute_names("#sk", SK)
        } else {
            put.condition_expression("#v = :expected")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":expected", n(household.version))
        };
        put.send()
            .await
            .map_err(|e| store_error("PutItem household", e))?;
        Ok(next)
    }

    async fn delete(&self, household: &Household) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(household.municipality.as_str()))
            .key(SK, s(household.user.as_str()))
            .condition_expression("attribute_not_exists(#sk) OR #v = :expected")
            .expression_attribute_names("#sk", SK)
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_values(":expected", n(household.version))
            .send()
            .await
            .map_err(|e| store_error("DeleteItem household", e))?;
        Ok(())
    }

    async fn deliverable_page(
        &self,
        municipality: &MunicipalityId,
        shard: Shard,
        cursor: Option<String>,
        limit: u32,
    ) -> StoreResult<Page<Household>> {
        let shard =
            Shard::new(shard.index, shard.count).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let buckets: Vec<u16> = shard.buckets().collect();
        let limit = limit.max(1) as usize;
        let mut position = match cursor.as_deref().map(FanoutCursor::decode).transpose()? {
            None => FanoutCursor {
                bucket: buckets[0],
                after: None,
            },
            Some(c) if buckets.contains(&c.bucket) => c,
            Some(_) => return Err(StoreError::Corrupt("cursor of another shard".into())),
        };
        let mut items = Vec::new();
        loop {
            let key = send_shard_key(municipality, position.bucket);
            let start = position.after.as_ref().map(|user| {
                Item::from([
                    (SEND_SHARD.to_owned(), s(&key)),
                    (SK.to_owned(), s(user)),
                    (PK.to_owned(), s(municipality.as_str())),
                ])
            });
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI_DELIVERABLE)
                .key_condition_expression("#shard = :shard")
                .expression_attribute_names("#shard", SEND_SHARD)
                .expression_attribute_values(":shard", s(&key))
                .set_exclusive_start_key(start)
                .limit((limit - items.len()) as i32)
                .send()
                .await
                .map_err(|e| store_error("Query deliverable", e))?;
            for item in out.items.unwrap_or_default() {
                let household = from_item(item)?;
                // The index is eventually consistent: a parent who paused a second ago may
                // still be listed. The item itself says whether it receives messages.
                if household.receives_messages() {
                    items.push(household);
                }
            }
            match out.last_evaluated_key {
                Some(last) => position.after = Some(get_s(&last, SK)?.to_owned()),
                None => {
                    match buckets.iter().position(|&b| b == position.bucket) {
                        Some(i) if i + 1 < buckets.len() => {
                            position = FanoutCursor {
                                bucket: buckets[i + 1],
                                after: None,
                            }
                        }
                        _ => return Ok(Page { items, next: None }),
                    };
                }
            }
            if items.len() >= limit {
                return Ok(Page {
                    items,
                    next: Some(position.encode()),
                });
            }
        }
    }

    async fn all_in_municipality_page(
        &self,
        municipality: &MunicipalityId,
        cursor: Option<String>,
        limit: u32,
    ) -> StoreResult<Page<Household>> {
        let start = match cursor {
            None => None,
            Some(c) => {
                let user = LineUserId::parse(&c)
                    .map_err(|_| StoreError::Corrupt("invalid household cursor".into()))?;
                Some(Item::from([
                    (PK.to_owned(), s(municipality.as_str())),
                    (SK.to_owned(), s(user.as_str())),
                ]))
            }
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(municipality.as_str()))
            .set_exclusive_start_key(start)
            .limit(limit.max(1) as i32)
            .send()
            .await
            .map_err(|e| store_error("Query households", e))?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<StoreResult<Vec<_>>>()?;
        let next = match out.last_evaluated_key {
            Some(last) => Some(get_s(&last, SK)?.to_owned()),
            None => None,
        };
        Ok(Page { items, next })
    }

    async fn purge_unfollowed_before(
        &self,
        municipality: &MunicipalityId,
        cutoff: NaiveDate,
    ) -> StoreResult<u64> {
        // Dates are stored as ISO `YYYY-MM-DD`, so string order is date order.
        const EXPIRED: &str = "#f = :false AND #u < :cutoff";
        let cutoff = s(cutoff.format("%Y-%m-%d").to_string());
        let mut deleted = 0;
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .filter_expression(EXPIRED)
                .projection_expression("#sk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#f", FOLLOWING)
                .expression_attribute_names("#u", UNFOLLOWED_ON)
                .expression_attribute_values(":pk", s(municipality.as_str()))
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .expression_attribute_values(":cutoff", cutoff.clone())
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| store_error("Query unfollowed households", e))?;
            for item in out.items.unwrap_or_default() {
                let user = get_s(&item, SK)?;
                // Conditional: a parent who re-follows while the purge runs keeps their data.
                let result = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .key(PK, s(municipality.as_str()))
                    .key(SK, s(user))
                    .condition_expression(EXPIRED)
                    .expression_attribute_names("#f", FOLLOWING)
                    .expression_attribute_names("#u", UNFOLLOWED_ON)
                    .expression_attribute_values(":false", AttributeValue::Bool(false))
                    .expression_attribute_values(":cutoff", cutoff.clone())
                    .send()
                    .await
                    .map_err(|e| store_error("DeleteItem expired household", e));
                match result {
                    Ok(_) => deleted += 1,
                    Err(StoreError::Conflict) => {}
                    Err(e) => return Err(e),
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(deleted);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kizuna_core::{Registration, RegistrationStatus, Subject};

    fn household() -> Household {
        let mut h = Household::new(
            MunicipalityId::parse("ama-town").unwrap(),
            LineUserId::parse("U4af4980629a0b1c2d3e4f5a6b7c8d9e0").unwrap(),
        );
        h.registrations.push(Registration {
            id: 1,
            subject: Subject::Pregnancy {
                due_date: NaiveDate::from_ymd_opt(2027, 5, 1).unwrap(),
            },
            baby_count: 1,
            status: RegistrationStatus::Active,
            registered_on: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        });
        h
    }

    #[test]
    fn receiving_household_has_fanout_key_and_no_ttl() {
        let item = to_item(&household(), 3).unwrap();
        assert_eq!(get_s(&item, PK).unwrap(), "ama-town");
        assert_eq!(
            get_s(&item, SK).unwrap(),
            "U4af4980629a0b1c2d3e4f5a6b7c8d9e0"
        );
        // Bucket 19 is pinned in kizuna-app's tests.
        assert_eq!(get_s(&item, SEND_SHARD).unwrap(), "ama-town#19");
        assert_eq!(item.get(VERSION), Some(&n(3)));
        assert!(!item.contains_key(EXPIRES_AT));
        let back = from_item(item).unwrap();
        assert_eq!(back.version, 3);
        assert_eq!(back.registrations, household().registrations);
    }

    #[test]
    fn paused_or_unfollowed_household_leaves_the_index() {
        let mut h = household();
        h.paused = true;
        assert!(!to_item(&h, 1).unwrap().contains_key(SEND_SHARD));

        let mut h = household();
        h.following = false;
        h.unfollowed_on = NaiveDate::from_ymd_opt(2027, 1, 1);
        let item = to_item(&h, 1).unwrap();
        assert!(!item.contains_key(SEND_SHARD));
        // 2027-06-30 00:00 JST = 2027-06-29T15:00:00Z
        assert_eq!(item.get(EXPIRES_AT), Some(&n(1_814_281_200_i64)));
    }

    #[test]
    fn cursor_round_trip_and_garbage() {
        let c = FanoutCursor {
            bucket: 7,
            after: Some("U4af4980629a0b1c2d3e4f5a6b7c8d9e0".into()),
        };
        assert_eq!(FanoutCursor::decode(&c.encode()).unwrap(), c);
        let start = FanoutCursor {
            bucket: 0,
            after: None,
        };
        assert_eq!(FanoutCursor::decode(&start.encode()).unwrap(), start);
        for bad in ["", "x:", "1", "1:not-a-user"] {
            assert!(FanoutCursor::decode(bad).is_err(), "{bad}");
        }
    }
}
