//! Reading every page of a listing: the one place that follows DynamoDB's `LastEvaluatedKey`
//! and S3's continuation token. It uses the SDK's own paginators (a stream of pages), so no
//! adapter hand-writes the "send, collect, take the next key, stop when there is none" loop.

use crate::error::store_error;
use crate::item::Item;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder;
use kizuna_app::ports::StoreResult;
use std::collections::BTreeMap;

/// What to do with one item of a listing.
pub(crate) enum Keep<T> {
    /// Keep this value and go on.
    Value(T),
    /// Leave this item out (e.g. a lease row among ledger entries) and go on.
    Skip,
    /// Keep this value and stop: enough has been read (no further page is requested).
    Last(T),
}

/// Every item `query` matches, page after page, turned into values by `keep`.
/// `operation` names the call in errors (e.g. "Query audit records").
pub(crate) async fn query_all<T>(
    query: QueryFluentBuilder,
    operation: &'static str,
    mut keep: impl FnMut(Item) -> StoreResult<Keep<T>>,
) -> StoreResult<Vec<T>> {
    let mut pages = query.into_paginator().send();
    let mut kept = Vec::new();
    while let Some(page) = pages.next().await {
        let items = page.map_err(|e| store_error(operation, e))?.items;
        if keep_page(&mut kept, items, &mut keep)? {
            break;
        }
    }
    Ok(kept)
}

/// Like [`query_all`] for a Scan (only the municipalities table is ever scanned).
pub(crate) async fn scan_all<T>(
    scan: ScanFluentBuilder,
    operation: &'static str,
    mut keep: impl FnMut(Item) -> StoreResult<Keep<T>>,
) -> StoreResult<Vec<T>> {
    let mut pages = scan.into_paginator().send();
    let mut kept = Vec::new();
    while let Some(page) = pages.next().await {
        let items = page.map_err(|e| store_error(operation, e))?.items;
        if keep_page(&mut kept, items, &mut keep)? {
            break;
        }
    }
    Ok(kept)
}

/// Adds what `keep` decides for each of one page's items to `kept`; true when the listing
/// should stop (no further page is requested).
fn keep_page<T>(
    kept: &mut Vec<T>,
    items: Option<Vec<Item>>,
    keep: &mut impl FnMut(Item) -> StoreResult<Keep<T>>,
) -> StoreResult<bool> {
    for item in items.unwrap_or_default() {
        match keep(item)? {
            Keep::Value(value) => kept.push(value),
            Keep::Skip => {}
            Keep::Last(value) => {
                kept.push(value);
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Key → ETag of every object under `prefix` in `bucket`, in key order: the content store's
/// version check and `kizuna content sync`'s diff both read the bucket through this.
pub async fn object_etags(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> StoreResult<BTreeMap<String, String>> {
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut objects = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| store_error("ListObjectsV2", e))?;
        for object in page.contents() {
            if let Some(key) = object.key() {
                objects.insert(
                    key.to_owned(),
                    object.e_tag().unwrap_or_default().to_owned(),
                );
            }
        }
    }
    Ok(objects)
}
