//! The built assets' names (server only). With `hash-files`, cargo-leptos puts each asset's
//! content hash in its name (`fleetgate.<hash>.css`) and lists the hashes in `hash.txt` beside
//! the server binary, where Leptos's hydration scripts read the wasm's and the JS's; the
//! stylesheet's is read here, once.

use std::path::PathBuf;
use std::sync::OnceLock;

/// `hash.txt` beside the running binary, if the build wrote one.
pub fn hash_file() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.join("hash.txt");
    path.is_file().then_some(path)
}

/// Whether the assets carry their hashes in their names (and so may be cached for good).
pub fn hashed() -> bool {
    hashes().is_some()
}

/// `kind → hash` from `hash.txt` (`css: Ab3…` per line), read once.
fn hashes() -> Option<&'static [(String, String)]> {
    static HASHES: OnceLock<Option<Vec<(String, String)>>> = OnceLock::new();
    HASHES
        .get_or_init(|| {
            let text = std::fs::read_to_string(hash_file()?).ok()?;
            Some(parse(&text))
        })
        .as_deref()
}

fn parse(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .collect()
}

/// The stylesheet's URL: `/pkg/<name>.<hash>.css` when hashed, else `/pkg/<name>.css`.
pub fn stylesheet_href(options: &leptos::config::LeptosOptions) -> String {
    let hash = hashes().and_then(|h| h.iter().find(|(k, _)| k == "css").map(|(_, v)| v));
    match hash {
        Some(h) => format!("/{}/{}.{h}.css", options.site_pkg_dir, options.output_name),
        None => format!("/{}/{}.css", options.site_pkg_dir, options.output_name),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_hash_file_lists_each_kind() {
        let h = super::parse("js: abc\nwasm: def\n\ncss:  ghi \nbroken\n");
        assert_eq!(
            h,
            [("js", "abc"), ("wasm", "def"), ("css", "ghi")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }
}
