use crate::config::Config;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use std::time::Duration;

/// What a Lambda function's environment lacks for [`AwsClients::for_lambda`].
#[derive(Debug, thiserror::Error)]
#[error("{0} is not set: Lambda sets it for every function (outside Lambda, use AwsClients::from_config)")]
pub struct MissingLambdaEnvironment(&'static str);

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

    /// The clients of a Lambda function, from what Lambda puts in every function's environment:
    /// `AWS_REGION` and the execution role's credentials (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) — the same variables `aws_config`'s chain
    /// would pick first there. Not calling `aws_config::load` keeps its other providers
    /// (profile files, STS web identity, ECS, IMDS), which a Lambda never uses, out of the
    /// binaries (issue 12: every function under 8 MB). Retries and the connect timeout are
    /// `aws_config`'s defaults, set here by hand.
    pub fn for_lambda(config: &Config) -> Result<Self, MissingLambdaEnvironment> {
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or(MissingLambdaEnvironment(name))
        };
        let credentials = Credentials::new(
            var("AWS_ACCESS_KEY_ID")?,
            var("AWS_SECRET_ACCESS_KEY")?,
            std::env::var("AWS_SESSION_TOKEN")
                .ok()
                .filter(|t| !t.is_empty()),
            None,
            "lambda-environment",
        );
        let mut sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(var("AWS_REGION")?))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .retry_config(RetryConfig::standard())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_millis(3_100))
                    .build(),
            );
        if let Some(url) = &config.aws_endpoint_url {
            sdk = sdk.endpoint_url(url);
        }
        Ok(Self::from_sdk_config(&sdk.build(), config))
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
