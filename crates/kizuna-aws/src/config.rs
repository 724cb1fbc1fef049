//! `Config::from_env()`: the one place Kizuna reads its configuration.

use std::fmt;

/// Default LINE Messaging API base URL.
pub const DEFAULT_LINE_API_BASE: &str = "https://api.line.me";
/// Default Secrets Manager name prefix: the secret of `ama-town` is `kizuna/prod/ama-town`.
/// The SAM template gives each stage `kizuna/{Stage}/` (its default stage is `prod`), so the
/// operator CLI run without `KIZUNA_SECRET_PREFIX` writes where production reads.
pub const DEFAULT_SECRET_PREFIX: &str = "kizuna/prod/";
/// Default name of the researchers' pseudonym key (`KIZUNA_SURVEY_KEY_SECRET`): the prod
/// stage's. Outside `kizuna/{Stage}/` on purpose: the functions may read every secret under
/// that prefix, and none of them may read this one (infra/template.yaml, ResearchPseudonymKey).
pub const DEFAULT_SURVEY_KEY_SECRET: &str = "kizuna-prod-research/survey-pseudonym-key";
/// Default of `KIZUNA_WARM_UP_AT_INIT` (see [`Config::warm_up_at_init`]).
pub const DEFAULT_WARM_UP_AT_INIT: bool = true;

/// The names of the environment variables [`Config`] reads — the contract with
/// `infra/template.yaml` (checked by infra/checks) and with every harness that starts a
/// function or the CLI as its own process (they call [`Config::to_env`]).
pub mod env_var {
    pub const LINE_API_BASE: &str = "KIZUNA_LINE_API_BASE";
    pub const TABLE_MUNICIPALITIES: &str = "KIZUNA_TABLE_MUNICIPALITIES";
    pub const TABLE_HOUSEHOLDS: &str = "KIZUNA_TABLE_HOUSEHOLDS";
    pub const TABLE_EVENTS: &str = "KIZUNA_TABLE_EVENTS";
    pub const TABLE_DELIVERIES: &str = "KIZUNA_TABLE_DELIVERIES";
    pub const CONTENT_BUCKET: &str = "KIZUNA_CONTENT_BUCKET";
    pub const SEND_QUEUE_URL: &str = "KIZUNA_SEND_QUEUE_URL";
    pub const SECRET_PREFIX: &str = "KIZUNA_SECRET_PREFIX";
    pub const WARM_UP_AT_INIT: &str = "KIZUNA_WARM_UP_AT_INIT";
    /// The operators' CLI only (`kizuna survey export`); never given to a function, so it is
    /// in [`super::Config::to_operator_env`], not in [`super::Config::to_env`].
    pub const SURVEY_KEY_SECRET: &str = "KIZUNA_SURVEY_KEY_SECRET";
    /// The AWS SDKs' own variable; Kizuna reads it too (see [`super::Config::aws_endpoint_url`]).
    pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
}

/// Names of Kizuna's DynamoDB tables (one per concern, so IAM can be least-privilege).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub municipalities: String,
    pub households: String,
    pub events: String,
    pub deliveries: String,
}

/// Everything deployment-specific. Built by [`Config::from_env`] in Lambda `main`s and the CLI,
/// or field by field in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// LINE Messaging API base URL without a trailing slash (`KIZUNA_LINE_API_BASE`).
    pub line_api_base: String,
    pub tables: TableNames,
    pub content_bucket: String,
    pub send_queue_url: String,
    pub secret_prefix: String,
    /// `AWS_ENDPOINT_URL`, set only for emulators. The SDK reads it by itself; Kizuna needs it
    /// to switch S3 to path-style addressing, which emulators on `localhost` require.
    pub aws_endpoint_url: Option<String>,
    /// `KIZUNA_WARM_UP_AT_INIT` (`true`/`false`, default [`DEFAULT_WARM_UP_AT_INIT`]): whether
    /// a Lambda opens its AWS and LINE connections while it initialises ([`crate::warmup`]),
    /// so the first event does not pay for them. docs/benchmarks.md ("Start-up") has the
    /// measurements behind the default.
    pub warm_up_at_init: bool,
    /// `KIZUNA_SURVEY_KEY_SECRET` (default [`DEFAULT_SURVEY_KEY_SECRET`]): the Secrets
    /// Manager name of the key that pseudonymises the researchers' survey export. Read by the
    /// operators' CLI only.
    pub survey_key_secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("missing environment variable(s): {}", .0.join(", "))]
    Missing(Vec<&'static str>),
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`] over any variable source. Reports every missing variable at
    /// once, so a broken deployment is fixed in one go. Empty values count as missing.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let mut missing = Vec::new();
        let mut required = |name: &'static str| {
            get(name).unwrap_or_else(|| {
                missing.push(name);
                String::new()
            })
        };
        let tables = TableNames {
            municipalities: required(env_var::TABLE_MUNICIPALITIES),
            households: required(env_var::TABLE_HOUSEHOLDS),
            events: required(env_var::TABLE_EVENTS),
            deliveries: required(env_var::TABLE_DELIVERIES),
        };
        let content_bucket = required(env_var::CONTENT_BUCKET);
        let send_queue_url = required(env_var::SEND_QUEUE_URL);
        if !missing.is_empty() {
            return Err(ConfigError::Missing(missing));
        }

        let line_api_base = get(env_var::LINE_API_BASE)
            .unwrap_or_else(|| DEFAULT_LINE_API_BASE.to_owned())
            .trim_end_matches('/')
            .to_owned();
        if !is_http_url(&line_api_base) {
            return Err(ConfigError::Invalid {
                var: env_var::LINE_API_BASE,
                reason: "must start with https:// or http://".into(),
            });
        }
        if !is_http_url(&send_queue_url) {
            return Err(ConfigError::Invalid {
                var: env_var::SEND_QUEUE_URL,
                reason: "must be the queue URL (https://sqs.…/account/name), not its name or ARN"
                    .into(),
            });
        }
        let warm_up_at_init = match get(env_var::WARM_UP_AT_INIT) {
            None => DEFAULT_WARM_UP_AT_INIT,
            Some(v) => parse_bool(&v).ok_or(ConfigError::Invalid {
                var: env_var::WARM_UP_AT_INIT,
                reason: format!("must be true or false, not {v:?}"),
            })?,
        };
        Ok(Self {
            line_api_base,
            tables,
            content_bucket,
            send_queue_url,
            secret_prefix: get(env_var::SECRET_PREFIX)
                .unwrap_or_else(|| DEFAULT_SECRET_PREFIX.to_owned()),
            aws_endpoint_url: get(env_var::AWS_ENDPOINT_URL),
            warm_up_at_init,
            survey_key_secret: get(env_var::SURVEY_KEY_SECRET)
                .unwrap_or_else(|| DEFAULT_SURVEY_KEY_SECRET.to_owned()),
        })
    }

    /// A configuration whose resource names all start with `namespace`, for the local stack
    /// and tests (several namespaces can share one emulator). `queue_base` is the SQS endpoint
    /// plus account, e.g. `http://127.0.0.1:5000/123456789012`.
    pub fn for_namespace(
        namespace: &str,
        aws_endpoint_url: Option<String>,
        queue_base: &str,
        line_api_base: &str,
    ) -> Self {
        Self {
            line_api_base: line_api_base.trim_end_matches('/').to_owned(),
            tables: TableNames {
                municipalities: format!("{namespace}-municipalities"),
                households: format!("{namespace}-households"),
                events: format!("{namespace}-webhook-events"),
                deliveries: format!("{namespace}-deliveries"),
            },
            content_bucket: format!("{namespace}-content"),
            send_queue_url: format!("{}/{namespace}-send", queue_base.trim_end_matches('/')),
            secret_prefix: format!("{namespace}/line/"),
            aws_endpoint_url,
            warm_up_at_init: DEFAULT_WARM_UP_AT_INIT,
            survey_key_secret: format!("{namespace}-research/survey-pseudonym-key"),
        }
    }

    /// The environment that [`Config::from_env`] reads back as this configuration: what a
    /// harness gives a function or the CLI it starts as its own process (the local Lambda
    /// emulator, the chaos suite's send workers, the CLI tests). `AWS_ENDPOINT_URL` is
    /// included when set.
    pub fn to_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            (env_var::LINE_API_BASE, self.line_api_base.clone()),
            (
                env_var::TABLE_MUNICIPALITIES,
                self.tables.municipalities.clone(),
            ),
            (env_var::TABLE_HOUSEHOLDS, self.tables.households.clone()),
            (env_var::TABLE_EVENTS, self.tables.events.clone()),
            (env_var::TABLE_DELIVERIES, self.tables.deliveries.clone()),
            (env_var::CONTENT_BUCKET, self.content_bucket.clone()),
            (env_var::SEND_QUEUE_URL, self.send_queue_url.clone()),
            (env_var::SECRET_PREFIX, self.secret_prefix.clone()),
            (env_var::WARM_UP_AT_INIT, self.warm_up_at_init.to_string()),
        ];
        if let Some(url) = &self.aws_endpoint_url {
            env.push((env_var::AWS_ENDPOINT_URL, url.clone()));
        }
        env
    }

    /// [`Config::to_env`] plus what only the operators' CLI reads
    /// ([`env_var::SURVEY_KEY_SECRET`]): what a harness gives the `kizuna` binary.
    pub fn to_operator_env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.to_env();
        env.push((env_var::SURVEY_KEY_SECRET, self.survey_key_secret.clone()));
        env
    }

    /// The SQS queue name, the last segment of [`Config::send_queue_url`].
    pub fn send_queue_name(&self) -> &str {
        self.send_queue_url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
    }
}

/// `true`/`false` as CloudFormation and shells write them (also `1`/`0`), any case.
fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn is_http_url(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

impl fmt::Display for TableNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "municipalities={} households={} events={} deliveries={}",
            self.municipalities, self.households, self.events, self.deliveries
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const FULL: &[(&str, &str)] = &[
        ("KIZUNA_TABLE_MUNICIPALITIES", "m"),
        ("KIZUNA_TABLE_HOUSEHOLDS", "h"),
        ("KIZUNA_TABLE_EVENTS", "e"),
        ("KIZUNA_TABLE_DELIVERIES", "d"),
        ("KIZUNA_CONTENT_BUCKET", "b"),
        (
            "KIZUNA_SEND_QUEUE_URL",
            "https://sqs.ap-northeast-1.amazonaws.com/1/q",
        ),
    ];

    #[test]
    fn defaults_apply_when_optional_vars_are_absent() {
        let c = Config::from_lookup(env(FULL)).unwrap();
        assert_eq!(c.line_api_base, "https://api.line.me");
        assert_eq!(c.secret_prefix, "kizuna/prod/");
        assert_eq!(c.aws_endpoint_url, None);
        assert_eq!(c.warm_up_at_init, DEFAULT_WARM_UP_AT_INIT);
        assert_eq!(c.survey_key_secret, DEFAULT_SURVEY_KEY_SECRET);
        assert_eq!(c.tables.households, "h");
        assert_eq!(c.send_queue_name(), "q");
    }

    #[test]
    fn every_missing_variable_is_named() {
        let err = Config::from_lookup(env(&[
            ("KIZUNA_TABLE_HOUSEHOLDS", "h"),
            ("KIZUNA_TABLE_EVENTS", "  "),
        ]))
        .unwrap_err();
        let ConfigError::Missing(names) = &err else {
            panic!("{err}")
        };
        assert_eq!(
            names,
            &[
                "KIZUNA_TABLE_MUNICIPALITIES",
                "KIZUNA_TABLE_EVENTS",
                "KIZUNA_TABLE_DELIVERIES",
                "KIZUNA_CONTENT_BUCKET",
                "KIZUNA_SEND_QUEUE_URL"
            ]
        );
        assert!(err.to_string().contains("KIZUNA_CONTENT_BUCKET"));
    }

    #[test]
    fn overrides_and_validation() {
        let mut vars = FULL.to_vec();
        vars.push(("KIZUNA_LINE_API_BASE", "http://127.0.0.1:8080/"));
        vars.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"));
        vars.push(("KIZUNA_SECRET_PREFIX", "x/"));
        let c = Config::from_lookup(env(&vars)).unwrap();
        assert_eq!(c.line_api_base, "http://127.0.0.1:8080");
        assert_eq!(c.aws_endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(c.secret_prefix, "x/");

        let mut vars = FULL.to_vec();
        vars.push(("KIZUNA_LINE_API_BASE", "api.line.me"));
        assert!(matches!(
            Config::from_lookup(env(&vars)),
            Err(ConfigError::Invalid {
                var: "KIZUNA_LINE_API_BASE",
                ..
            })
        ));
        let mut vars = FULL.to_vec();
        vars[5] = ("KIZUNA_SEND_QUEUE_URL", "kizuna-send");
        assert!(matches!(
            Config::from_lookup(env(&vars)),
            Err(ConfigError::Invalid {
                var: "KIZUNA_SEND_QUEUE_URL",
                ..
            })
        ));
    }

    #[test]
    fn warm_up_at_init_is_a_boolean() {
        for (value, expected) in [
            ("true", true),
            ("FALSE", false),
            ("1", true),
            (" 0 ", false),
        ] {
            let mut vars = FULL.to_vec();
            vars.push(("KIZUNA_WARM_UP_AT_INIT", value));
            assert_eq!(
                Config::from_lookup(env(&vars)).unwrap().warm_up_at_init,
                expected,
                "{value:?}"
            );
        }
        let mut vars = FULL.to_vec();
        vars.push(("KIZUNA_WARM_UP_AT_INIT", "yes please"));
        assert!(matches!(
            Config::from_lookup(env(&vars)),
            Err(ConfigError::Invalid {
                var: "KIZUNA_WARM_UP_AT_INIT",
                ..
            })
        ));
    }

    #[test]
    fn to_env_reads_back_as_the_same_configuration() {
        let mut config = Config::for_namespace(
            "kz1",
            Some("http://127.0.0.1:5000".into()),
            "http://127.0.0.1:5000/123456789012",
            "http://127.0.0.1:9/",
        );
        config.warm_up_at_init = !DEFAULT_WARM_UP_AT_INIT;
        config.secret_prefix = "elsewhere/".into();
        config.survey_key_secret = "elsewhere-research/key".into();
        let env: HashMap<String, String> = config
            .to_operator_env()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let read_back = Config::from_lookup(|name| env.get(name).cloned()).unwrap();
        assert_eq!(read_back, config);
        // The functions' environment has no name of the research key.
        assert!(config
            .to_env()
            .iter()
            .all(|(name, _)| *name != env_var::SURVEY_KEY_SECRET));

        config.aws_endpoint_url = None;
        assert!(config
            .to_env()
            .iter()
            .all(|(name, _)| *name != env_var::AWS_ENDPOINT_URL));
    }

    #[test]
    fn namespaced_config_names_every_resource() {
        let c = Config::for_namespace(
            "kz1",
            Some("http://127.0.0.1:5000".into()),
            "http://127.0.0.1:5000/123456789012",
            "http://127.0.0.1:9/",
        );
        assert_eq!(c.tables.events, "kz1-webhook-events");
        assert_eq!(c.content_bucket, "kz1-content");
        assert_eq!(
            c.send_queue_url,
            "http://127.0.0.1:5000/123456789012/kz1-send"
        );
        assert_eq!(c.send_queue_name(), "kz1-send");
        assert_eq!(c.line_api_base, "http://127.0.0.1:9");
    }
}
