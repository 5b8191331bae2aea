//! The session signing key: from configuration, or generated once into the data directory.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::path::Path;

const KEY_FILE: &str = "jwt.key";

/// Loads the key from `secret_b64`, else from `<data_dir>/jwt.key`, creating that file (mode
/// 0600) with 32 random bytes on first run.
pub fn load_or_create(secret_b64: Option<&str>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = secret_b64 {
        return STANDARD
            .decode(s.trim())
            .context("FLEETGATE_JWT_SECRET is not valid base64");
    }
    let path = data_dir.join(KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return STANDARD
            .decode(text.trim())
            .with_context(|| format!("{} is not valid base64", path.display()));
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let key: [u8; 32] = rand::random();
    write_private(&path, &STANDARD.encode(key))?;
    tracing::info!(path = %path.display(), "generated a new session signing key");
    Ok(key.to_vec())
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!(
                "{} appeared while being created; start again",
                path.display()
            )
        }
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    f.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused() {
        let dir = std::env::temp_dir().join(format!("fg-keys-{}", uuid::Uuid::new_v4()));
        let first = load_or_create(None, &dir).unwrap();
        let second = load_or_create(None, &dir).unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn configured_secret_wins_and_bad_base64_is_an_error() {
        let dir = std::env::temp_dir();
        let k = load_or_create(Some(&STANDARD.encode([9u8; 40])), &dir).unwrap();
        assert_eq!(k, vec![9u8; 40]);
        assert!(load_or_create(Some("not base64!"), &dir).is_err());
    }
}
