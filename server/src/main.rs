use anyhow::Context;
use clap::{Parser, Subcommand};
use server::config::{Config, Tuning};
use server::{admin, demo, scale, startup, telemetry};

/// mimalloc rather than glibc's malloc: rendering a page allocates and frees thousands of small
/// strings, and glibc's allocator took a fifth of the server's time under load (perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "server",
    version,
    about = "Fleetgate: fleet maintenance with safe support impersonation"
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo data set into an empty database.
    SeedDemo,
    /// Create an operator Admin; the password is read from a prompt or stdin, never argv.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// Onboard a customer organisation: its root team (every customer permission) and an
    /// invitation for its first Fleet Manager, whose link is printed (and mailed).
    CreateOrg {
        #[arg(long)]
        name: String,
        #[arg(long)]
        manager_email: String,
        #[arg(long)]
        manager_name: String,
    },
    /// Generate the scale data set (one organisation; defaults: 5,000 users, 1,000 teams,
    /// 100,000 vehicles, 500,000 work orders) with a progress bar. Everyone's password is
    /// read from a prompt or stdin, like create-admin.
    SeedScale {
        #[arg(long, default_value_t = scale::Scale::FULL.users)]
        users: u32,
        #[arg(long, default_value_t = scale::Scale::FULL.teams)]
        teams: u32,
        #[arg(long, default_value_t = scale::Scale::FULL.vehicles)]
        vehicles: u32,
        #[arg(long, default_value_t = scale::Scale::FULL.work_orders)]
        work_orders: u32,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Re-computes the hash chain; exits non-zero when a row was changed, removed or inserted.
    /// With `--file`, checks an export (JSON Lines from `/audit/export`) offline instead: no
    /// database is opened.
    Verify {
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        /// The export was filtered (a customer's always is): check each row's own hash and
        /// their order, not the links between them.
        #[arg(long, requires = "file")]
        filtered: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.config).await,
        Command::Migrate => {
            let db = startup::connect(&cli.config).await?;
            startup::migrate(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::SeedDemo => {
            let db = startup::connect(&cli.config).await?;
            startup::migrate(&db).await?;
            if demo::seed_if_empty(&db).await? {
                println!("demo data loaded\n{}", demo::banner());
            } else {
                println!("the database is not empty; nothing loaded");
            }
            Ok(())
        }
        Command::Audit {
            command:
                AuditCommand::Verify {
                    file: Some(path),
                    filtered,
                },
        } => {
            let file = std::fs::File::open(&path)
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
            match backend::audit_export::verify_lines(std::io::BufReader::new(file), !filtered) {
                Ok(v) => {
                    println!(
                        "export verified: {} events, each matching its hash; {} links to the event before checked",
                        v.rows, v.links
                    );
                    Ok(())
                }
                Err(broken) => {
                    eprintln!("export BROKEN at {broken}");
                    std::process::exit(1);
                }
            }
        }
        Command::Audit {
            command: AuditCommand::Verify { file: None, .. },
        } => {
            let db = startup::connect(&cli.config).await?;
            let (rows, broken) = backend::audit::verify(&db).await?;
            match broken {
                None => {
                    println!("audit chain verified: {rows} events, intact");
                    Ok(())
                }
                Some(id) => {
                    eprintln!("audit chain BROKEN at event {id} (checked {rows} events)");
                    std::process::exit(1);
                }
            }
        }
        Command::SeedScale {
            users,
            teams,
            vehicles,
            work_orders,
        } => {
            let password = admin::read_password()?;
            let db = startup::connect(&cli.config).await?;
            startup::migrate(&db).await?;
            let hash = backend::password::hash(password).await?;
            let size = scale::Scale {
                users,
                teams,
                vehicles,
                work_orders,
            };
            let started = std::time::Instant::now();
            let org = scale::generate(&db, size, &hash, &ProgressBar::default()).await?;
            println!(
                "generated “{}” (organisation {org}) in {:.1?}: {size:?}; sign in as {}",
                scale::ORGANISATION,
                started.elapsed(),
                scale::email(1)
            );
            Ok(())
        }
        Command::CreateOrg {
            name,
            manager_email,
            manager_name,
        } => {
            let db = startup::connect(&cli.config).await?;
            startup::migrate(&db).await?;
            let done =
                admin::create_org(&db, &cli.config, &name, &manager_name, &manager_email).await?;
            println!(
                "created organisation “{}” (id {}); invitation for {} (valid 7 days, mailed):\n{}",
                done.organisation.name, done.organisation.id, done.invitation.email, done.link
            );
            Ok(())
        }
        Command::CreateAdmin { email, name } => {
            let password = admin::read_password()?;
            let db = startup::connect(&cli.config).await?;
            startup::migrate(&db).await?;
            let user = admin::create_admin(&db, &email, &name, password).await?;
            println!("created admin {} (id {})", user.email, user.id);
            Ok(())
        }
    }
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let app = startup::Application::build(config, Tuning::default())
        .await
        .context("start-up failed")?;
    let addr = app.local_addr()?;
    println!("Fleetgate is listening on http://{addr}");
    if config.demo {
        print!("{}", demo::banner());
    } else if admin::no_users(&app.state.db).await? {
        // Production mode on an empty database: nobody can sign in yet. Say how to begin.
        let hint = admin::first_admin_hint();
        tracing::warn!("{hint}");
        println!("{hint}");
    }
    app.run_until(startup::shutdown_signal()).await?;
    Ok(())
}

/// The terminal's progress bar for `seed-scale`, one stage at a time.
#[derive(Default)]
struct ProgressBar(std::sync::Mutex<Option<indicatif::ProgressBar>>);

impl scale::Progress for ProgressBar {
    fn stage(&self, name: &'static str, total: u64) {
        let bar = indicatif::ProgressBar::new(total).with_message(name);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg:>22} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        if let Some(previous) = self.lock().replace(bar) {
            previous.finish();
        }
    }

    fn advance(&self, rows: u64) {
        if let Some(bar) = self.lock().as_ref() {
            bar.inc(rows);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.lock().take() {
            bar.finish();
        }
    }
}

impl ProgressBar {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<indicatif::ProgressBar>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
