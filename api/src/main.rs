//! `kks`: the KKS server and its operator commands.

use std::process::ExitCode;

use actix_web::{web, HttpServer};
use anyhow::Context;
use clap::Parser;
use kks_api::config::{Cli, Command, LogFormat, ServeArgs};
use kks_api::http::{self, metrics::Metrics, AppState};
use kks_api::store::Store;
use kks_api::service;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("kks: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let options = cli.store_options().context("reading --database")?;
    match cli.command {
        Command::Serve(args) => {
            let store = Store::open(&options).with_context(|| format!("opening the database {}", options.url))?;
            store.migrate().context("migrating the database")?;
            serve(store, &args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let store = Store::open(&options).with_context(|| format!("opening the database {}", options.url))?;
            store.migrate().context("migrating the database")?;
            println!("database {} is up to date", options.url);
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi { output } => {
            let document = http::openapi::document_json().context("generating the OpenAPI document")?;
            match output {
                Some(path) => std::fs::write(&path, document).with_context(|| format!("writing {}", path.display()))?,
                None => print!("{document}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::VerifyLedger { json } => {
            let store = Store::open(&options).with_context(|| format!("opening the database {}", options.url))?;
            let report = service::ledger_check::verify_ledger(&store).context("verifying the ledger")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "checked {} accounts, {} journals, {} postings, {} active holds",
                    report.accounts, report.journals, report.postings, report.active_holds
                );
                for discrepancy in &report.discrepancies {
                    println!("DISCREPANCY {}", serde_json::to_string(discrepancy)?);
                }
                if report.is_clean() {
                    println!("ledger OK: every balance equals its postings, every journal sums to zero");
                } else {
                    println!("ledger BROKEN: {} discrepancies", report.discrepancy_count);
                }
            }
            Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

#[actix_web::main]
async fn serve(store: Store, args: &ServeArgs) -> anyhow::Result<()> {
    let state = web::Data::new(AppState { store, metrics: Metrics::new().context("registering metrics")? });
    let factory_state = state.clone();
    let mut server = HttpServer::new(move || http::app(factory_state.clone()));
    if let Some(workers) = args.workers {
        server = server.workers(workers);
    }
    let server = server.bind(&args.bind).with_context(|| format!("binding {}", args.bind))?;
    for address in server.addrs() {
        // Tests and scripts read this line to find a port chosen with `--bind …:0`.
        println!("listening on http://{address}");
    }
    tracing::info!(database = %state.store.url(), "kks serving");
    server.run().await.context("running the HTTP server")
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("KKS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // One line per request when its span closes: request id, route, status, latency.
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_span_events(FmtSpan::CLOSE).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
