//! A small Spark Connect client: open a session on a server named by a
//! connection string (`sc://host:port/;token=…;use_ssl=true`), check its
//! Spark version, run SQL statements, and collect a query's result as Arrow
//! record batches. Ctrl-C while a query runs interrupts it on the server.
//!
//! The transport (gRPC, TLS, tokens, retries, reattaching a dropped result
//! stream) is Apache's `apache-spark-connect-core` crate; this module only
//! builds the few requests windowpane needs and turns the server's errors
//! into one sentence each.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use arrow_array::RecordBatch;
use spark_connect_core::{get_runtime, ChannelBuilder, RetryPolicy, SparkConnectClient, SparkError};
use spark_connect_proto as proto;

/// The oldest Spark release whose SQL has the VARIANT functions the scan uses.
pub const MIN_SPARK_MAJOR: u32 = 4;

/// The name of the client in the server's logs and user agent.
const CLIENT_TYPE: &str = "windowpane";

/// An open Spark Connect session.
pub struct Session {
    client: Arc<SparkConnectClient>,
    /// The connection string without its token, for messages.
    url: String,
    /// The server's Spark version (`4.3.0`).
    version: String,
}

/// The connection string with any `token=` value hidden, for messages and
/// reports.
pub fn display_url(url: &str) -> String {
    match url.split_once("/;") {
        Some((base, params)) => {
            let kept: Vec<String> = params
                .split(';')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("token") => format!("{k}=…"),
                    _ => p.to_string(),
                })
                .collect();
            format!("{base}/;{}", kept.join(";"))
        }
        None => url.to_string(),
    }
}

/// What the server's error means for a person: one sentence, or `None`
/// when it is none of the kinds windowpane names.
fn explain(e: &SparkError, url: &str) -> Option<String> {
    let class = e.get_error_class().unwrap_or_default();
    // gRPC codes: 14 unavailable, 16 unauthenticated, 7 permission denied
    match e.grpc_code() {
        Some(14) => {
            return Some(format!(
                "cannot reach the Spark Connect server at {url}: check the host and port, and that the server runs \
                 (scripts/spark-connect-server.sh start runs one on this machine)"
            ))
        }
        Some(16) | Some(7) => {
            return Some(format!(
                "the Spark Connect server at {url} refused the authentication: check the token in the connection \
                 string (sc://host:port/;token=…;use_ssl=true)"
            ))
        }
        _ => {}
    }
    if class.contains("PARQUET_COLUMN_DATA_TYPE_MISMATCH") || class.starts_with("CANNOT_MERGE_SCHEMAS") {
        return Some(
            "the Parquet files of the input do not all give a column the same type (one has a timestamp, another an \
             integer, say): the cluster reads them with one type per column; write them with one, or run without \
             --spark (this machine reads each file with its own)"
                .into(),
        );
    }
    if class.starts_with("FAILED_READ_FILE") {
        let message = e.message();
        let file = message
            .split_once("reading file ")
            .map(|(_, rest)| rest.split(".  ").next().unwrap_or(rest).trim_end_matches('.').trim())
            .unwrap_or("a file");
        return Some(match crate::source::delimited::delimiter_of(file).is_some() {
            true => format!(
                "the cluster could not read {file}: there the header of every CSV or TSV file of an input must name the \
                 columns of the first file's, in its order; write them with one header, or run without --spark (this \
                 machine reads each file with its own)"
            ),
            false => format!(
                "the cluster could not read {file} ({}): --skip-corrupt-files leaves damaged files out",
                first_line(e)
            ),
        });
    }
    if class.starts_with("PATH_NOT_FOUND") {
        // the parameters come as JSON inside the error's details
        let path = e
            .get_message_parameters()
            .and_then(|p| {
                p.get("path").cloned().or_else(|| {
                    let inner: serde_json::Value = serde_json::from_str(p.get("messageParameters")?).ok()?;
                    inner.get("path")?.as_str().map(str::to_string)
                })
            })
            .unwrap_or_else(|| "given".into());
        return Some(format!(
            "the path {path} was not found on the cluster: --spark paths are read by the Spark server \
             (s3://…, abfss://…, hdfs://…, or a path on the server's file system), not by this machine"
        ));
    }
    None
}

/// Refuses a Spark older than [`MIN_SPARK_MAJOR`] (or a version it cannot read).
fn check_version(version: &str, url: &str) -> Result<()> {
    let major: u32 = version
        .split(['.', '-'])
        .next()
        .and_then(|m| m.trim().parse().ok())
        .unwrap_or(0);
    if major < MIN_SPARK_MAJOR {
        bail!(
            "the server at {url} runs Spark {version}; --spark needs Spark {MIN_SPARK_MAJOR}.0 or newer (its SQL has the VARIANT functions the scan checks lines with)"
        );
    }
    Ok(())
}

/// The first line of a server error, short enough for a terminal.
fn first_line(e: &SparkError) -> String {
    let message = e.message();
    let line = message.lines().next().unwrap_or_default();
    crate::text::abridge(line, 400)
}

/// Ctrl-C while a query runs: set by the handler, read by [`Session::query`].
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// True while a query runs on the server.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// Asks the query running on the server, if any, to stop, as Ctrl-C does:
/// for a command whose own handler of Ctrl-C (a stream's) takes the
/// signal. True when a query was running.
pub fn interrupt_query() -> bool {
    let running = RUNNING.load(Ordering::SeqCst);
    if running {
        INTERRUPTED.store(true, Ordering::SeqCst);
    }
    running
}

/// Installs the Ctrl-C handler once; false when another one is in place.
/// Outside a query, Ctrl-C ends the process as it would without one.
fn watch_ctrl_c() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        crate::signals::on_stop(|| {
            if RUNNING.load(Ordering::SeqCst) {
                INTERRUPTED.store(true, Ordering::SeqCst);
            } else {
                std::process::exit(130);
            }
        })
        .is_ok()
    })
}

impl Session {
    /// Connects to the server of a connection string and checks that it runs
    /// Spark 4.0 or newer.
    pub fn open(url: &str) -> Result<Session> {
        let shown = display_url(url);
        let builder = ChannelBuilder::parse(url).map_err(|e| {
            anyhow!(
                "{shown} is not a Spark Connect connection string ({}); expected sc://HOST:PORT, optionally followed by /;token=…;use_ssl=true",
                first_line(&e)
            )
        })?;
        let runtime = get_runtime();
        let mut client = runtime.block_on(SparkConnectClient::connect(&builder)).map_err(|e| {
            anyhow!(
                "cannot connect to {shown}: {}",
                explain(&e, &shown).unwrap_or_else(|| first_line(&e))
            )
        })?;
        // the first call fails fast when the server is down; later ones
        // retry and reattach as the transport does by default
        client.set_retry_policy(RetryPolicy {
            max_retries: Some(2),
            initial_backoff_ms: 300,
            ..RetryPolicy::default()
        });
        let request = proto::AnalyzePlanRequest {
            session_id: client.session_id().to_string(),
            user_context: Some(user_context(&client)),
            client_type: Some(CLIENT_TYPE.into()),
            analyze: Some(proto::analyze_plan_request::Analyze::SparkVersion(
                proto::analyze_plan_request::SparkVersion {},
            )),
            ..Default::default()
        };
        let response = runtime
            .block_on(client.analyze_plan(request))
            .map_err(|e| anyhow!(explain(&e, &shown).unwrap_or_else(|| format!("{shown}: {}", first_line(&e)))))?;
        let version = match response.result {
            Some(proto::analyze_plan_response::Result::SparkVersion(v)) => v.version,
            _ => bail!("the server at {shown} did not say which Spark version it runs: is it a Spark Connect server?"),
        };
        check_version(&version, &shown)?;
        client.set_retry_policy(RetryPolicy::default());
        Ok(Session {
            client: Arc::new(client),
            url: shown,
            version,
        })
    }

    /// The connection string, without its token.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's Spark version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Sets a configuration value of this session.
    pub fn set_conf(&self, key: &str, value: &str) -> Result<()> {
        get_runtime()
            .block_on(self.client.set_config(key, value))
            .map_err(|e| self.error(&e, &format!("cannot set {key} on the server")))
    }

    /// Runs one SQL statement that returns no rows (`CREATE TEMPORARY VIEW …`).
    pub fn execute(&self, sql: &str) -> Result<()> {
        let command = proto::Command {
            command_type: Some(proto::command::CommandType::SqlCommand(proto::SqlCommand {
                input: Some(sql_relation(sql)),
                ..Default::default()
            })),
        };
        self.run(proto::plan::OpType::Command(command)).map(|_| ())
    }

    /// Makes (or replaces) the temporary view `name` over the files
    /// `paths`, read with the data source `format` and its `options`.
    /// Unlike a SQL `OPTIONS (path …)`, the paths are given one by one, so
    /// that a scan reads these and no other; with `literal`, a glob
    /// character in a name is escaped, so it is taken as written.
    pub fn create_file_view(
        &self,
        name: &str,
        format: &str,
        paths: &[String],
        options: &[(&str, &str)],
        literal: bool,
    ) -> Result<()> {
        let source = proto::read::DataSource {
            format: Some(format.to_string()),
            options: options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            paths: paths
                .iter()
                .map(|p| if literal { glob_escaped(p) } else { p.clone() })
                .collect(),
            ..Default::default()
        };
        let input = proto::Relation {
            common: None,
            rel_type: Some(proto::relation::RelType::Read(proto::Read {
                is_streaming: false,
                read_type: Some(proto::read::ReadType::DataSource(source)),
            })),
        };
        let command = proto::Command {
            command_type: Some(proto::command::CommandType::CreateDataframeView(
                proto::CreateDataFrameViewCommand {
                    input: Some(input),
                    name: name.to_string(),
                    is_global: false,
                    replace: true,
                },
            )),
        };
        self.run(proto::plan::OpType::Command(command)).map(|_| ())
    }

    /// Runs a SQL query and returns its rows as Arrow record batches.
    pub fn query(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        self.run(proto::plan::OpType::Root(sql_relation(sql)))
    }

    /// Executes a plan, collecting the Arrow batches of its result; Ctrl-C
    /// interrupts it on the server.
    fn run(&self, op: proto::plan::OpType) -> Result<Vec<RecordBatch>> {
        let request = proto::ExecutePlanRequest {
            session_id: self.client.session_id().to_string(),
            user_context: Some(user_context(&self.client)),
            plan: Some(proto::Plan { op_type: Some(op) }),
            client_type: Some(CLIENT_TYPE.into()),
            ..Default::default()
        };
        let runtime = get_runtime();
        // another handler may be in place: it calls interrupt_query
        watch_ctrl_c();
        RUNNING.store(true, Ordering::SeqCst);
        let client = Arc::clone(&self.client);
        let task = runtime.spawn(async move {
            let mut stream = client.execute_plan_reattachable(request).await?;
            let mut payloads = Vec::new();
            while let Some(response) = stream.message().await? {
                if let Some(proto::execute_plan_response::ResponseType::ArrowBatch(batch)) = response.response_type {
                    payloads.push(batch.data);
                }
            }
            Ok::<_, SparkError>(payloads)
        });
        let mut interrupted = false;
        while !task.is_finished() {
            if !interrupted && INTERRUPTED.load(Ordering::SeqCst) {
                interrupted = true;
                crate::text::note(&format!("interrupting the query on {} …", self.url));
                if let Err(e) = runtime.block_on(self.client.interrupt_all()) {
                    crate::text::warning(&format!("the server did not take the interrupt: {}", first_line(&e)));
                    task.abort();
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let outcome = runtime.block_on(task);
        RUNNING.store(false, Ordering::SeqCst);
        // a Ctrl-C that came as the plan finished is not lost: the command
        // stops here rather than going on to its next request
        if INTERRUPTED.swap(false, Ordering::SeqCst) || interrupted {
            bail!("interrupted (Ctrl-C): the query was cancelled on {}", self.url);
        }
        let payloads = outcome
            .context("the Spark Connect client stopped")?
            .map_err(|e| self.error(&e, "the query failed on the cluster"))?;
        let mut batches = Vec::new();
        for data in payloads {
            let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(&data[..]), None)
                .context("the server sent a result that is not Arrow IPC")?;
            for batch in reader {
                batches.push(batch.context("the server sent a damaged Arrow batch")?);
            }
        }
        Ok(batches)
    }

    /// A server error as one sentence: a known kind, or `what` and the
    /// server's first line.
    fn error(&self, e: &SparkError, what: &str) -> anyhow::Error {
        anyhow!(explain(e, &self.url).unwrap_or_else(|| format!("{what} ({}): {}", self.url, first_line(e))))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // frees the session's views and caches on the server at once; a
        // server that is gone already is no error here
        let _ = get_runtime()
            .block_on(async { tokio::time::timeout(Duration::from_secs(2), self.client.release_session()).await });
    }
}

fn sql_relation(sql: &str) -> proto::Relation {
    proto::Relation {
        common: None,
        rel_type: Some(proto::relation::RelType::Sql(proto::Sql {
            query: sql.to_string(),
            ..Default::default()
        })),
    }
}

fn user_context(client: &SparkConnectClient) -> proto::UserContext {
    // the server keys sessions by user and session id: the same user as
    // the transport's own requests (configuration, interrupts) send
    proto::UserContext {
        user_id: client.user_id().unwrap_or_default().to_string(),
        ..Default::default()
    }
}

/// A file's path with the characters of a Hadoop glob (`{}[]*?\\`)
/// escaped: Spark expands globs in the paths of a data source.
fn glob_escaped(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if "{}[]*?\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A string as a Spark SQL literal: single quotes, backslashes and quotes
/// escaped.
pub fn sql_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_hidden_from_messages() {
        assert_eq!(display_url("sc://h:15002"), "sc://h:15002");
        assert_eq!(
            display_url("sc://h:443/;token=s3cret;use_ssl=true"),
            "sc://h:443/;token=…;use_ssl=true"
        );
    }

    #[test]
    fn spark_older_than_4_is_refused_in_one_sentence() {
        assert!(check_version("4.0.0", "sc://h:1").is_ok());
        assert!(check_version("4.3.0", "sc://h:1").is_ok());
        assert!(check_version("5.0.0-preview1", "sc://h:1").is_ok());
        let e = check_version("3.5.1", "sc://h:1").unwrap_err().to_string();
        assert_eq!(
            e,
            "the server at sc://h:1 runs Spark 3.5.1; --spark needs Spark 4.0 or newer (its SQL has the VARIANT functions the scan checks lines with)"
        );
        assert!(check_version("", "sc://h:1").is_err());
    }

    #[test]
    fn glob_characters_in_file_names_are_escaped() {
        assert_eq!(glob_escaped("file:/d/a.json"), "file:/d/a.json");
        assert_eq!(glob_escaped("/d/a[1]{x,y}*?.json"), r"/d/a\[1\]\{x,y\}\*\?.json");
        assert_eq!(glob_escaped(r"/d/a\b"), r"/d/a\\b");
    }

    #[test]
    fn strings_become_sql_literals() {
        assert_eq!(sql_string("s3://b/x"), "'s3://b/x'");
        assert_eq!(sql_string(r"a'b\c"), r"'a\'b\\c'");
    }

    #[test]
    fn a_server_that_is_not_there_is_one_sentence() {
        // a port nothing listens on: reserve one, then free it
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("sc://127.0.0.1:{port}");
        let e = Session::open(&url).err().expect("no server there");
        let text = format!("{e:#}");
        assert!(
            text.starts_with(&format!("cannot reach the Spark Connect server at {url}:")),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1, "{text}");
    }
}
