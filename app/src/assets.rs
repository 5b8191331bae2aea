//! The built assets' names (server only). With `hash-files`, cargo-leptos puts each asset's
//! content hash in its name (`fleetgate.<hash>.css`) and lists the hashes in `hash.txt` beside
//! the server binary. They are read here, once: the stylesheet's link and the scripts that load
//! the app and hydrate the page ([`AppScripts`]).

use leptos::WasmSplitManifest;
use leptos::config::LeptosOptions;
use leptos::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
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

/// The hash `hash.txt` gives an asset of `kind` (`css`, `js`, `wasm`, `manifest`, `split`).
fn hash_of(kind: &str) -> Option<&'static str> {
    hashes()?
        .iter()
        .find(|(k, _)| k == kind)
        .map(|(_, v)| v.as_str())
}

/// `stem.hash` when the build hashed this kind of asset, else `stem` (or `unhashed`).
fn hashed_name(stem: &str, kind: &str, unhashed: impl FnOnce() -> String) -> String {
    match hash_of(kind) {
        Some(h) => format!("{stem}.{h}"),
        None => unhashed(),
    }
}

/// The stylesheet's URL: `/pkg/<name>.<hash>.css` when hashed, else `/pkg/<name>.css`.
pub fn stylesheet_href(options: &LeptosOptions) -> &'static str {
    &names(options).css
}

/// What every page's head names: the same for every page of a running server (a process
/// serves one site), so worked out once.
struct Names {
    /// `/pkg/<name>.<hash>.css`: the stylesheet.
    css: String,
    /// `/pkg/<name>.<hash>.js`: the app's JS glue.
    js: String,
    /// `/pkg/<name>.<hash>.wasm`: the app's wasm.
    wasm: String,
    /// The inline module that loads both and hydrates the page.
    load: String,
    /// The lazily loaded pages' chunks (`cargo leptos build --split`), for Leptos to preload the
    /// chunks of the page being rendered.
    splits: Option<WasmSplitManifest>,
}

/// The names of the first `options` asked with (see [`Names`]).
fn names(options: &LeptosOptions) -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(|| Names::of(options))
}

impl Names {
    fn of(options: &LeptosOptions) -> Self {
        let pkg = format!("/{}", options.site_pkg_dir);
        let name = &options.output_name;
        let css = hashed_name(name, "css", || name.to_string());
        let js = hashed_name(name, "js", || name.to_string());
        // Unhashed, wasm-bindgen's name, unless cargo-leptos named the output when it built us.
        let wasm = hashed_name(name, "wasm", || match option_env!("LEPTOS_OUTPUT_NAME") {
            Some(_) => name.to_string(),
            None => format!("{name}_bg"),
        });
        let (js, wasm) = (format!("{pkg}/{js}.js"), format!("{pkg}/{wasm}.wasm"));
        Self {
            css: format!("{pkg}/{css}.css"),
            load: format!(
                "import({js:?}).then(app => app.default({{ module_or_path: {wasm:?} }}).then(() => app.hydrate()));"
            ),
            js,
            wasm,
            splits: split_manifest(options, &pkg),
        }
    }
}

/// The split bundle's manifest (which chunks each lazy page needs), when the build made one.
fn split_manifest(options: &LeptosOptions, pkg: &str) -> Option<WasmSplitManifest> {
    let split = hashed_name("__wasm_split", "split", || {
        "__wasm_split.______________________".into()
    });
    let manifest = hashed_name("__wasm_split_manifest", "manifest", || {
        "__wasm_split_manifest".into()
    });
    let path = Path::new(options.site_root.as_ref())
        .join(options.site_pkg_dir.as_ref())
        .join(format!("{manifest}.json"));
    let text = std::fs::read_to_string(path).ok()?;
    let chunks: HashMap<String, Vec<String>> = serde_json::from_str(&text).ok()?;
    Some(WasmSplitManifest(ArcStoredValue::new((
        pkg.to_owned(),
        chunks,
        format!("{split}.js"),
    ))))
}

/// Loads the app's JS and wasm and hydrates the page, like Leptos's `HydrationScripts`, but
/// with the assets' names read once per process instead of from `hash.txt` on every page (13 %
/// of a public page's work, measured). The preloads let the browser fetch both while it
/// parses the page; the script carries the page's CSP nonce.
#[component]
pub fn AppScripts(options: LeptosOptions) -> impl IntoView {
    let scripts = names(&options);
    if let Some(splits) = &scripts.splits {
        provide_context(splits.clone());
    }
    let nonce = leptos::nonce::use_nonce();
    // `anonymous`: the credentials mode of the module import and of wasm-bindgen's fetch, so
    // the browser uses what it preloaded instead of fetching it again.
    view! {
        <link rel="modulepreload" href=scripts.js.as_str() crossorigin="anonymous" />
        <link
            rel="preload"
            href=scripts.wasm.as_str()
            r#as="fetch"
            r#type="application/wasm"
            crossorigin="anonymous"
        />
        <script type="module" nonce=nonce>
            {scripts.load.as_str()}
        </script>
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
