use crate::error::{corrupt, store_error};
use crate::item::{s, Item};
use crate::paging::{scan_all, Keep};
use crate::schema::municipalities::PK;
use async_trait::async_trait;
use kizuna_app::model::Municipality;
use kizuna_app::ports::{MunicipalityDirectory, StoreResult};
use kizuna_core::MunicipalityId;

/// [`MunicipalityDirectory`] on the `municipalities` table (the `Municipality` record via
/// serde_dynamo; its id is stored under the key attribute).
#[derive(Debug, Clone)]
pub struct DynamoMunicipalityDirectory {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoMunicipalityDirectory {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn from_item(item: Item) -> StoreResult<Municipality> {
    serde_dynamo::from_item(item).map_err(|e| corrupt("municipality item", e))
}

#[async_trait]
impl MunicipalityDirectory for DynamoMunicipalityDirectory {
    async fn get(&self, id: &MunicipalityId) -> StoreResult<Option<Municipality>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(id.as_str()))
            .send()
            .await
            .map_err(|e| store_error("GetItem municipality", e))?;
        out.item.map(from_item).transpose()
    }

    async fn put(&self, municipality: &Municipality) -> StoreResult<()> {
        let item: Item =
            serde_dynamo::to_item(municipality).map_err(|e| corrupt("municipality", e))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| store_error("PutItem municipality", e))?;
        Ok(())
    }

    /// The only Scan in Kizuna: the table holds one small item per municipality (at most
    /// the 1,741 of Japan), read by the scheduler once per run and by the CLI.
    async fn list(&self) -> StoreResult<Vec<Municipality>> {
        let scan = self.client.scan().table_name(&self.table);
        scan_all(scan, "Scan municipalities", |item| {
            Ok(Keep::Value(from_item(item)?))
        })
        .await
    }
}
