use crate::config::Config;
use aws_config::{BehaviorVersion, SdkConfig};

/// The SDK clients, built once per process (cold start) and cloned cheaply into adapters.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl AwsClients {
    /// Loads the standard AWS configuration chain (region, credentials, `AWS_ENDPOINT_URL`).
    pub async fn from_config(config: &Config) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(url) = &config.aws_endpoint_url {
            loader = loader.endpoint_url(url);
        }
        Self::from_sdk_config(&loader.load().await, config)
    }

    /// Builds the clients from an already loaded `SdkConfig` (tests set region, credentials
    /// and endpoint on it rather than in the process environment).
    pub fn from_sdk_config(sdk: &SdkConfig, config: &Config) -> Self {
        // Virtual-hosted-style S3 (`bucket.host`) cannot resolve for an emulator on an IP or
        // `localhost`, so an explicit endpoint implies path-style addressing.
        let path_style = config.aws_endpoint_url.is_some() || sdk.endpoint_url().is_some();
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(path_style)
            .build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            s3: aws_sdk_s3::Client::from_conf(s3),
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
        }
    }
}
