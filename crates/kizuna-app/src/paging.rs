//! Reading a cursor-paged listing to its end as a stream of pages: the one loop behind every
//! "list the town's households" in the operator commands (statistics, forecast, dry runs)
//! and the benches. The sender pages by hand, because it stores its cursor between pages
//! (the resume point of a send job).

use crate::model::{Page, Shard};
use crate::ports::{HouseholdStore, StoreResult};
use futures::Stream;
use kizuna_core::{Household, MunicipalityId};
use std::future::Future;

/// Where a listing is: not started, after a cursor, or finished.
enum Position {
    Start,
    After(String),
    End,
}

/// Every page of a listing, in order: `fetch(cursor)` is called with `None` first, then with
/// each page's `next`, until a page has none. The first error ends the stream.
pub fn pages<T, F, Fut>(fetch: F) -> impl Stream<Item = StoreResult<Vec<T>>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = StoreResult<Page<T>>>,
{
    futures::stream::try_unfold(
        (fetch, Position::Start),
        |(mut fetch, position)| async move {
            let cursor = match position {
                Position::Start => None,
                Position::After(cursor) => Some(cursor),
                Position::End => return Ok(None),
            };
            let page = fetch(cursor).await?;
            let next = page.next.map_or(Position::End, Position::After);
            Ok(Some((page.items, (fetch, next))))
        },
    )
}

/// The households of one shard that receive messages, page by page
/// ([`HouseholdStore::deliverable_page`]).
pub fn deliverable_pages<'a>(
    store: &'a dyn HouseholdStore,
    municipality: &'a MunicipalityId,
    shard: Shard,
    page_size: u32,
) -> impl Stream<Item = StoreResult<Vec<Household>>> + 'a {
    pages(move |cursor| store.deliverable_page(municipality, shard, cursor, page_size))
}

/// Every household of a municipality, receiving or not, page by page
/// ([`HouseholdStore::all_in_municipality_page`]).
pub fn municipality_pages<'a>(
    store: &'a dyn HouseholdStore,
    municipality: &'a MunicipalityId,
    page_size: u32,
) -> impl Stream<Item = StoreResult<Vec<Household>>> + 'a {
    pages(move |cursor| store.all_in_municipality_page(municipality, cursor, page_size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::StoreError;
    use futures::TryStreamExt;
    use std::cell::RefCell;

    /// A listing of `items` in pages of `size`, whose cursor is the next index; records the
    /// cursors it was asked for.
    fn listing(
        items: Vec<u32>,
        size: usize,
        asked: &RefCell<Vec<Option<String>>>,
    ) -> impl FnMut(Option<String>) -> std::future::Ready<StoreResult<Page<u32>>> + '_ {
        move |cursor| {
            asked.borrow_mut().push(cursor.clone());
            let from: usize = cursor.map_or(0, |c| c.parse().unwrap());
            let to = (from + size).min(items.len());
            std::future::ready(Ok(Page {
                items: items[from..to].to_vec(),
                next: (to < items.len()).then(|| to.to_string()),
            }))
        }
    }

    #[tokio::test]
    async fn every_page_is_read_once_in_order_following_each_cursor() {
        let asked = RefCell::new(Vec::new());
        let read: Vec<Vec<u32>> = pages(listing((1..=7).collect(), 3, &asked))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(read, vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]]);
        assert_eq!(
            *asked.borrow(),
            vec![None, Some("3".to_owned()), Some("6".to_owned())]
        );
    }

    #[tokio::test]
    async fn an_empty_listing_is_one_empty_page() {
        let asked = RefCell::new(Vec::new());
        let read: Vec<Vec<u32>> = pages(listing(Vec::new(), 3, &asked))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(read, vec![Vec::<u32>::new()]);
        assert_eq!(asked.borrow().len(), 1);
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_and_nothing_after_it_is_read() {
        let mut calls = 0;
        let stream = pages(|cursor: Option<String>| {
            calls += 1;
            std::future::ready(match cursor {
                None => Ok(Page {
                    items: vec![1],
                    next: Some("1".into()),
                }),
                Some(_) => Err(StoreError::Throttled),
            })
        });
        let read: Vec<StoreResult<Vec<u32>>> = futures::StreamExt::collect(stream).await;
        assert_eq!(read, vec![Ok(vec![1]), Err(StoreError::Throttled)]);
        assert_eq!(calls, 2);
    }
}
