use anyhow::Context;
use clap::{Parser, Subcommand};
use server::config::{Config, Tuning};
use server::{admin, demo, startup, telemetry};

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
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Re-computes the hash chain; exits non-zero when a row was changed, removed or inserted.
    Verify,
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
            command: AuditCommand::Verify,
        } => {
            let db = startup::connect(&cli.config).await?;
            let (rows, broken) = app::audit::verify(&db).await?;
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
    }
    app.run_until(startup::shutdown_signal()).await?;
    Ok(())
}
