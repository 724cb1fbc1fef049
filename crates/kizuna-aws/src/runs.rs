use crate::error::store_error;
use crate::item::{get_n, get_s, millis_to_utc, n, opt_n, opt_s, parse_date, s, ttl_after, Item};
use crate::paging::{query_all, Keep};
use crate::schema::deliveries::{
    EXPIRES_AT, GSI_RUNS_BY_DATE, PK, RUN_DATE, RUN_ID, RUN_PK_PREFIX, SK, STATUS,
};
use crate::schema::RUN_RECORD_RETENTION_DAYS;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, NaiveDate, Utc};
use kizuna_app::model::{RunCounts, RunKey, RunRecord, RunStatus, RunUpdate};
use kizuna_app::ports::{RunRecords, StoreError, StoreResult};
use kizuna_core::MunicipalityId;
use std::collections::HashMap;

const MUNICIPALITY: &str = "municipality";
const SHARD: &str = "shard";
const NOTE: &str = "note";
const UPDATED_AT: &str = "updated_at";
/// Prefix of the per-notice counters, one top-level number attribute per note id
/// (`notice#four-month-checkup`): DynamoDB's ADD, which makes concurrent batches add up,
/// only works on top-level attributes.
const NOTICE_PREFIX: &str = "notice#";
const COUNTERS: [&str; 5] = [
    "sent",
    "skipped",
    "failed",
    "not_sent_quota",
    "missing_content",
];

/// [`RunRecords`] in the `deliveries` table: PK `"run#{municipality}"`, SK
/// `"{YYYY-MM-DD}#{shard:03}"` (so the newest runs come first in a descending Query), and the
/// sparse `runs_by_date` GSI for "every municipality on one date".
#[derive(Debug, Clone)]
pub struct DynamoRunRecords {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoRunRecords {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn query_all(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        max: Option<usize>,
    ) -> StoreResult<Vec<RunRecord>> {
        if max == Some(0) {
            return Ok(Vec::new());
        }
        let mut kept = 0;
        query_all(query, "Query run records", |item| {
            let record = run_record(&item)?;
            kept += 1;
            Ok(if max.is_some_and(|m| kept >= m) {
                Keep::Last(record)
            } else {
                Keep::Value(record)
            })
        })
        .await
    }
}

fn run_pk(municipality: &MunicipalityId) -> String {
    format!("{RUN_PK_PREFIX}{}", municipality.as_str())
}

fn run_sk(date: NaiveDate, shard: u16) -> String {
    format!("{}#{shard:03}", date.format("%Y-%m-%d"))
}

fn run_key_item(key: &RunKey) -> Item {
    Item::from([
        (PK.to_owned(), s(run_pk(&key.municipality))),
        (SK.to_owned(), s(run_sk(key.date, key.shard))),
    ])
}

fn run_record(item: &Item) -> StoreResult<RunRecord> {
    let municipality = MunicipalityId::parse(get_s(item, MUNICIPALITY)?)
        .map_err(|_| StoreError::Corrupt("run record municipality".into()))?;
    let status = RunStatus::parse(get_s(item, STATUS)?)
        .ok_or_else(|| StoreError::Corrupt("run record status".into()))?;
    let count = |name| opt_n::<u64>(item, name).unwrap_or(0);
    Ok(RunRecord {
        key: RunKey {
            municipality,
            date: parse_date(get_s(item, RUN_DATE)?)?,
            shard: get_n(item, SHARD)?,
        },
        status,
        counts: RunCounts {
            sent: count(COUNTERS[0]),
            skipped: count(COUNTERS[1]),
            failed: count(COUNTERS[2]),
            not_sent_quota: count(COUNTERS[3]),
            missing_content: count(COUNTERS[4]),
        },
        notices: item
            .iter()
            .filter_map(|(name, value)| {
                let id = name.strip_prefix(NOTICE_PREFIX)?;
                let count = value.as_n().ok()?.parse::<u64>().ok()?;
                Some((id.to_owned(), count))
            })
            .collect(),
        note: opt_s(item, NOTE),
        updated_at: millis_to_utc(get_n(item, UPDATED_AT)?)?,
    })
}

/// One run-record update as an UpdateItem's parts (key, expression, names, values), shared by
/// [`RunRecords::upsert`] and the sender's page commits, which write it in a transaction with
/// the page's ledger entries.
pub(crate) struct RunRecordUpdate {
    pub key: Item,
    pub expression: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

pub(crate) fn run_record_update(
    key: &RunKey,
    update: &RunUpdate,
    now: DateTime<Utc>,
) -> RunRecordUpdate {
    let add = update.add;
    let deltas = [
        add.sent,
        add.skipped,
        add.failed,
        add.not_sent_quota,
        add.missing_content,
    ];
    // ADD creates a missing counter at 0 first, so concurrent batches of one run add up.
    let mut expression = String::from(
        "SET #status = :status, #updated = :updated, #muni = :muni, #date = :date, \
         #shard = :shard, #run_id = :run_id, #exp = :exp",
    );
    if update.note.is_some() {
        expression.push_str(", #note = :note");
    }
    expression.push_str(" ADD ");
    let notices: Vec<(&String, u64)> = update
        .notices
        .iter()
        .filter(|(_, &count)| count > 0)
        .map(|(id, &count)| (id, count))
        .collect();
    expression.push_str(
        &(0..COUNTERS.len())
            .map(|i| format!("#c{i} :c{i}"))
            .chain((0..notices.len()).map(|i| format!("#n{i} :n{i}")))
            .collect::<Vec<_>>()
            .join(", "),
    );
    if update.note.is_none() {
        expression.push_str(" REMOVE #note");
    }
    let mut names: HashMap<String, String> = [
        ("#status", STATUS),
        ("#updated", UPDATED_AT),
        ("#muni", MUNICIPALITY),
        ("#date", RUN_DATE),
        ("#shard", SHARD),
        ("#run_id", RUN_ID),
        ("#exp", EXPIRES_AT),
        ("#note", NOTE),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let mut values: HashMap<String, AttributeValue> = HashMap::from([
        (":status".to_owned(), s(update.status.as_str())),
        (":updated".to_owned(), n(now.timestamp_millis())),
        (":muni".to_owned(), s(key.municipality.as_str())),
        (
            ":date".to_owned(),
            s(key.date.format("%Y-%m-%d").to_string()),
        ),
        (":shard".to_owned(), n(key.shard)),
        (
            ":run_id".to_owned(),
            s(format!("{}#{:03}", key.municipality.as_str(), key.shard)),
        ),
        (
            ":exp".to_owned(),
            n(ttl_after(now, RUN_RECORD_RETENTION_DAYS)),
        ),
    ]);
    for (i, (name, delta)) in COUNTERS.iter().zip(deltas).enumerate() {
        names.insert(format!("#c{i}"), (*name).to_owned());
        values.insert(format!(":c{i}"), n(delta));
    }
    for (i, (id, count)) in notices.iter().enumerate() {
        names.insert(format!("#n{i}"), format!("{NOTICE_PREFIX}{id}"));
        values.insert(format!(":n{i}"), n(*count));
    }
    if let Some(note) = &update.note {
        values.insert(":note".to_owned(), s(note));
    }
    RunRecordUpdate {
        key: run_key_item(key),
        expression,
        names,
        values,
    }
}

#[async_trait]
impl RunRecords for DynamoRunRecords {
    async fn upsert(
        &self,
        key: &RunKey,
        update: &RunUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<RunRecord> {
        let parts = run_record_update(key, update, now);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(parts.key))
            .update_expression(parts.expression)
            .set_expression_attribute_names(Some(parts.names))
            .set_expression_attribute_values(Some(parts.values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| store_error("UpdateItem run record", e))?;
        let item = out
            .attributes
            .ok_or_else(|| StoreError::Corrupt("run record update returned nothing".into()))?;
        run_record(&item)
    }

    async fn get(&self, key: &RunKey) -> StoreResult<Option<RunRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(run_key_item(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem run record", e))?;
        out.item.as_ref().map(run_record).transpose()
    }

    async fn list_recent(
        &self,
        municipality: &MunicipalityId,
        n: u32,
    ) -> StoreResult<Vec<RunRecord>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(run_pk(municipality)))
            .scan_index_forward(false)
            .limit(n.min(1_000) as i32);
        self.query_all(query, Some(n as usize)).await
    }

    async fn list_for_date(&self, date: NaiveDate) -> StoreResult<Vec<RunRecord>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI_RUNS_BY_DATE)
            .key_condition_expression("#date = :date")
            .expression_attribute_names("#date", RUN_DATE)
            .expression_attribute_values(":date", s(date.format("%Y-%m-%d").to_string()));
        self.query_all(query, None).await
    }
}
