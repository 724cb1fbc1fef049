use crate::config::Config;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::StalledStreamProtectionConfig;
use std::time::Duration;

/// How long one DynamoDB request attempt may take before the SDK abandons it and retries
/// (standard retry mode: 3 attempts). DynamoDB answers in milliseconds; a `TransactWriteItems`
/// of 98 items in tens of them. 20 s is far beyond any healthy answer, and the worst case
/// (3 × 20 s plus back-off) stays well inside the sender's 300 s Lambda timeout. It is also
/// wide enough for moto under a loaded CI machine, where one transaction can take seconds.
pub const DYNAMODB_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);

/// `aws_config`'s default connect timeout, which every client here keeps.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3_100);

/// The DynamoDB client's configuration: the shared one, plus a deadline for every attempt and
/// **no stalled-stream protection**. That protection (on by default, 1 B/s over a 20 s grace
/// period) is meant for streamed bodies (S3 objects); DynamoDB's bodies are small JSON
/// documents, and the attempt timeout bounds the whole exchange, body included — without it the
/// SDK sets no response deadline at all. Measured (docs/benchmarks.md, "Sender CPU per
/// delivery"): with the protection on, the throughput-check timers kept waking the sender while
/// it waited for slow transaction answers, and a round on a slow emulator used 13.3 s of CPU
/// instead of ~1 s.
fn dynamodb_config(sdk: &SdkConfig, attempt_timeout: Duration) -> aws_sdk_dynamodb::Config {
    aws_sdk_dynamodb::config::Builder::from(sdk)
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(attempt_timeout)
                .build(),
        )
        .build()
}

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
                    .connect_timeout(CONNECT_TIMEOUT)
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
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb_config(
                sdk,
                DYNAMODB_ATTEMPT_TIMEOUT,
            )),
            s3: aws_sdk_s3::Client::from_conf(s3),
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A DynamoDB endpoint that accepts connections and reads requests but never answers:
    /// the attempt timeout, not the Lambda timeout, must end the call.
    #[tokio::test]
    async fn a_dynamodb_endpoint_that_never_answers_fails_the_call_at_the_attempt_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let accepted = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                // Read what the client sends (so it is not refused), never write an answer.
                held.push(tokio::spawn(async move {
                    let mut sink = Vec::new();
                    let _ = tokio::io::AsyncReadExt::read_to_end(&mut socket, &mut sink).await;
                }));
            }
        });
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("ap-northeast-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "test", "test", None, None, "test",
            )))
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .endpoint_url(endpoint)
            .build();
        let client =
            aws_sdk_dynamodb::Client::from_conf(dynamodb_config(&sdk, Duration::from_millis(300)));

        // The outer bound is only a guard against a hang (a failing test, not a slow one).
        let answer =
            tokio::time::timeout(Duration::from_secs(120), client.describe_limits().send())
                .await
                .expect("the SDK call returned instead of hanging");

        let error = answer.expect_err("nobody answered, so the call must fail");
        assert!(
            matches!(error, aws_sdk_dynamodb::error::SdkError::TimeoutError(_)),
            "a timeout error, got {error:?}"
        );
        accepted.abort();
    }

    #[test]
    fn the_dynamodb_client_has_an_attempt_timeout_and_no_stalled_stream_protection() {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .build();
        let config = dynamodb_config(&sdk, DYNAMODB_ATTEMPT_TIMEOUT);
        let timeouts = config.timeout_config().expect("timeouts set");
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(DYNAMODB_ATTEMPT_TIMEOUT)
        );
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert!(!config
            .stalled_stream_protection()
            .expect("set explicitly")
            .is_enabled());
    }
}
