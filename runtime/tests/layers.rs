//! The layers of `runtime/src` point one way: every path into another top-level module
//! (`crate::net::…`, `crate::{driver, task::{self, Id}}` over any number of lines,
//! `super::super::time`, …) goes to a layer below the file's own, as the table in
//! `docs/architecture.md` ("Layers") draws them.
//!
//! The table is the source of truth: this test reads it, so a change of the layers is a
//! change of the document. Not counted as imports: comments, docs (a doc link may point
//! anywhere) and strings; `$crate` paths in macros (they expand in the caller); modules
//! compiled only in tests (a layer's unit tests may build a whole runtime); and the `pub
//! use` items of the one facade, `task/mod.rs`, which re-exports the spawn functions that
//! live in `runtime/` as `filch::task::*`. A path through the facade
//! (`crate::task::spawn`) counts as a path to where the item lives. `lib.rs` is the facade
//! over all of them.
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The layers of the table, top first: the modules of each row.
fn layers_from_architecture_md() -> Vec<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/architecture.md");
    let doc = fs::read_to_string(&path).expect("docs/architecture.md");
    let table = doc
        .split("<!-- layers:begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- layers:end -->").next())
        .expect("architecture.md marks its layer table with <!-- layers:begin/end -->");
    let layers: Vec<Vec<String>> = table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // `| rank | `a`, `b` | what it owns |`; the header and the rule have no rank.
            cells.get(1)?.parse::<u32>().ok()?;
            let modules = cells
                .get(2)?
                .split(',')
                .map(|m| m.trim().trim_matches('`').to_owned())
                .collect();
            Some(modules)
        })
        .collect();
    assert!(
        layers.len() > 3,
        "no layer rows found in {}",
        path.display()
    );
    layers
}

/// The rank of each module (0 = top).
fn ranks(layers: &[Vec<String>]) -> HashMap<String, usize> {
    let mut ranks = HashMap::new();
    for (rank, row) in layers.iter().enumerate() {
        for module in row {
            assert!(
                ranks.insert(module.clone(), rank).is_none(),
                "module `{module}` is in two layers"
            );
        }
    }
    ranks
}

/// Source without comments, string and char literals (their text is not code), and
/// without test-only modules.
fn code_of(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut code = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        code.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == 'r'
            && matches!(next, Some('"') | Some('#'))
            && !chars[..i].last().is_some_and(|&p| is_ident_char(p))
        {
            // A raw string: r"…", r#"…"#, …
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                code.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                if chars[j] == '\n' {
                    code.push('\n');
                }
                j += 1;
            }
            code.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => i += 2,
                    '"' => {
                        i += 1;
                        break;
                    }
                    '\n' => {
                        code.push('\n');
                        i += 1;
                    }
                    _ => i += 1,
                }
            }
            code.push_str("\"\"");
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A char literal ('x', '\n', '\''), not a lifetime.
            let mut j = i + 2;
            if next == Some('\\') {
                j += 1;
            }
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            code.push_str("' '");
            i = j + 1;
        } else {
            code.push(c);
            i += 1;
        }
    }
    drop_test_modules(&code)
}

/// Whether a `cfg` condition holds only in tests: `test`, or `all(…)` with `test` among
/// its terms (`any(test, x)` also holds without tests).
fn only_in_tests(condition: &str) -> bool {
    let condition: String = condition.chars().filter(|c| !c.is_whitespace()).collect();
    if condition == "test" {
        return true;
    }
    let Some(terms) = condition
        .strip_prefix("all(")
        .and_then(|rest| rest.strip_suffix(')'))
    else {
        return false;
    };
    // The top-level terms of the `all(…)`.
    let mut depth = 0;
    let mut term = String::new();
    let mut terms_found = Vec::new();
    for c in terms.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms_found.push(std::mem::take(&mut term));
                continue;
            }
            _ => {}
        }
        term.push(c);
    }
    terms_found.push(term);
    terms_found.iter().any(|t| t == "test")
}

/// Cuts every module compiled only in tests (`#[cfg(test)] mod … { … }`, also
/// `#[cfg(all(test, …))]` and with other attributes between; braces counted).
fn drop_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(") {
        let inner_start = at + "#[cfg(".len();
        // The condition runs to the `)` that closes `cfg(`.
        let mut depth = 1;
        let mut inner_end = rest.len();
        for (i, c) in rest[inner_start..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        inner_end = inner_start + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let attribute_end = rest[inner_end..]
            .find(']')
            .map_or(rest.len(), |i| inner_end + i + 1);
        let for_tests = only_in_tests(&rest[inner_start..inner_end]);
        // Skip further attributes to the item itself.
        let mut item = &rest[attribute_end..];
        loop {
            let trimmed = item.trim_start();
            if trimmed.starts_with("#[") {
                let close = trimmed.find(']').map_or(trimmed.len(), |i| i + 1);
                item = &trimmed[close..];
            } else {
                item = trimmed;
                break;
            }
        }
        let item_offset = rest.len() - item.len();
        let is_inline_module = (item.starts_with("mod ")
            || item.starts_with("pub mod ")
            || item.starts_with("pub(crate) mod "))
            && item
                .find('{')
                .is_some_and(|open| !item[..open].contains(';'));
        if for_tests && is_inline_module {
            out.push_str(&rest[..at]);
            let open = item_offset + item.find('{').expect("checked above");
            let mut depth = 0usize;
            let mut end = rest.len();
            for (i, c) in rest[open..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            rest = &rest[end..];
        } else {
            // Not an inline test module. (`#[cfg(test)] mod tests;` is a file of its own,
            // which the walk over the files reads and checks as code: it may only reach
            // down.)
            out.push_str(&rest[..attribute_end]);
            rest = &rest[attribute_end..];
        }
    }
    out.push_str(rest);
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A path that reaches out of the file: its segments from the crate root (`["runtime",
/// "context", "with_current"]`; a group is expanded into one path per leaf), the name it
/// is known by where it is imported (its last segment, or the `as` name), and where it
/// starts in the code.
#[derive(Debug, Clone)]
struct CratePath {
    segments: Vec<String>,
    name: String,
    offset: usize,
}

/// Parses the path tree that starts at `chars[i]` (just after `crate::`, or after the
/// `super::`s that climbed to the root): `a::b::c`, `a::{b, c::{d, e}}`, `a::*`,
/// `a as b`. Returns where it ends.
fn parse_tree(
    chars: &[char],
    mut i: usize,
    prefix: &mut Vec<String>,
    start: usize,
    out: &mut Vec<CratePath>,
) -> usize {
    let skip_ws = |mut i: usize| {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        i
    };
    i = skip_ws(i);
    if chars.get(i) == Some(&'{') {
        i += 1;
        loop {
            i = skip_ws(i);
            match chars.get(i) {
                None => return i,
                Some('}') => return i + 1,
                Some(',') => i += 1,
                Some(_) => {
                    let before = i;
                    i = parse_tree(chars, i, prefix, start, out);
                    if i == before {
                        i += 1; // not a path: step over it
                    }
                }
            }
        }
    }
    if chars.get(i) == Some(&'*') {
        out.push(CratePath {
            segments: prefix.clone(),
            name: "*".into(),
            offset: start,
        });
        return i + 1;
    }
    let ident_start = i;
    while i < chars.len() && is_ident_char(chars[i]) {
        i += 1;
    }
    if i == ident_start {
        return i;
    }
    let ident: String = chars[ident_start..i].iter().collect();
    prefix.push(ident.clone());
    let end = if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
        parse_tree(chars, i + 2, prefix, start, out)
    } else {
        // A leaf, maybe renamed.
        let after = skip_ws(i);
        let mut name = ident;
        let mut end = i;
        let rest: String = chars[after..chars.len().min(after + 3)].iter().collect();
        if rest.starts_with("as") && rest.chars().nth(2).is_some_and(|c| c.is_whitespace()) {
            let name_start = skip_ws(after + 2);
            let mut j = name_start;
            while j < chars.len() && is_ident_char(chars[j]) {
                j += 1;
            }
            name = chars[name_start..j].iter().collect();
            end = j;
        }
        out.push(CratePath {
            segments: prefix.clone(),
            name,
            offset: start,
        });
        end
    };
    prefix.pop();
    end
}

/// Every path of a file's code that starts at the crate root: `crate::…` (not `$crate`,
/// which expands in the caller) and `super::…` chains that climb out of the file's
/// top-level module. `module_path` is the file's own (`["net", "tcp", "stream"]`).
fn crate_paths(code: &str, module_path: &[String]) -> Vec<CratePath> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let at_word =
            i == 0 || !(is_ident_char(chars[i - 1]) || chars[i - 1] == '$' || chars[i - 1] == ':');
        let rest = || chars[i..].iter().take(7).collect::<String>();
        if at_word && rest() == "crate::" {
            i = parse_tree(&chars, i + 7, &mut Vec::new(), i, &mut found).max(i + 7);
        } else if at_word && rest() == "super::" {
            let start = i;
            let mut climbs = 0;
            while chars[i..].iter().take(7).collect::<String>() == "super::" {
                climbs += 1;
                i += 7;
            }
            if climbs >= module_path.len() {
                i = parse_tree(&chars, i, &mut Vec::new(), start, &mut found).max(i);
            }
        } else {
            i += 1;
        }
    }
    found
}

/// The `pub use` items of `code`, as the spans they cover.
fn reexport_spans(code: &str) -> Vec<(usize, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut spans = Vec::new();
    let mut i = 0;
    while i + 8 <= chars.len() {
        let at_word = i == 0 || !is_ident_char(chars[i - 1]);
        if at_word && chars[i..i + 8].iter().collect::<String>() == "pub use " {
            let end = chars[i..]
                .iter()
                .position(|&c| c == ';')
                .map_or(chars.len(), |p| i + p + 1);
            spans.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    spans
}

/// The files whose `pub use` items may re-export from above: the public modules that
/// gather items of several layers (see architecture.md, "Layers").
const FACADES: &[&str] = &["task/mod.rs"];

/// What each facade re-exports from which layer: `(facade module, name) -> module`, so a
/// path through the facade (`crate::task::spawn`) is ranked where the item lives.
fn reexported_from_above(
    files: &[(Vec<String>, String, String)],
) -> HashMap<(String, String), String> {
    let mut aliases = HashMap::new();
    for (path, shown, source) in files {
        if !FACADES.contains(&shown.as_str()) {
            continue;
        }
        let code = code_of(source);
        let spans = reexport_spans(&code);
        for p in crate_paths(&code, path) {
            if spans.iter().any(|&(a, b)| (a..b).contains(&p.offset)) && p.segments[0] != path[0] {
                aliases.insert((path[0].clone(), p.name.clone()), p.segments[0].clone());
            }
        }
    }
    aliases
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read runtime/src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The module path of a file under `runtime/src` (`net/tcp/mod.rs` is `["net", "tcp"]`).
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// Every import against the layers, as `file:line: …` lines.
fn violations(
    ranks: &HashMap<String, usize>,
    files: &[(Vec<String>, String, String)],
) -> Vec<String> {
    let aliases = reexported_from_above(files);
    let mut found = Vec::new();
    for (path, shown, source) in files {
        let own = &path[0];
        if own == "lib" {
            continue;
        }
        let own_rank = *ranks.get(own).unwrap_or_else(|| {
            panic!("module `{own}` ({shown}) is in no layer of architecture.md")
        });
        let code = code_of(source);
        let facade_spans = if FACADES.contains(&shown.as_str()) {
            reexport_spans(&code)
        } else {
            Vec::new()
        };
        for p in crate_paths(&code, path) {
            if facade_spans
                .iter()
                .any(|&(a, b)| (a..b).contains(&p.offset))
            {
                continue;
            }
            let line = code[..p.offset].matches('\n').count() + 1;
            let first = &p.segments[0];
            // Through a facade's re-export, the item is where it lives.
            let target = match p.segments.get(1) {
                Some(second) => aliases
                    .get(&(first.clone(), second.clone()))
                    .unwrap_or(first),
                None => first,
            };
            if target == own {
                continue;
            }
            match ranks.get(target) {
                Some(&rank) if rank > own_rank => {}
                Some(_) => found.push(format!(
                    "{shown}:{line}: `{own}` uses `{target}` (`crate::{}`), which is not below it",
                    p.segments.join("::")
                )),
                // Items of lib.rs itself (`crate::spawn`, `crate::sync`) are the facade:
                // inside the crate, use the module that defines them.
                None => found.push(format!(
                    "{shown}:{line}: `{own}` uses `crate::{}`, which is in no layer",
                    p.segments.join("::")
                )),
            }
        }
    }
    found
}

#[test]
fn imports_point_down_the_layers_of_architecture_md() {
    let layers = layers_from_architecture_md();
    let ranks = ranks(&layers);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths.sort();
    let files: Vec<_> = paths
        .iter()
        .map(|path| {
            let relative = path.strip_prefix(&src).expect("under src");
            let source = fs::read_to_string(path).expect("read source");
            (
                module_path(relative),
                relative.display().to_string(),
                source,
            )
        })
        .collect();
    // Every top-level module is in the table, and every module of the table exists.
    for (path, shown, _) in &files {
        assert!(
            path[0] == "lib" || ranks.contains_key(&path[0]),
            "{shown}: module `{}` is in no layer of architecture.md",
            path[0]
        );
    }
    for module in ranks.keys() {
        assert!(
            files.iter().any(|(path, _, _)| &path[0] == module),
            "architecture.md lists a module `{module}` that runtime/src does not have"
        );
    }
    let found = violations(&ranks, &files);
    assert!(
        found.is_empty(),
        "imports against the layers of docs/architecture.md:\n{}",
        found.join("\n")
    );
}

/// The checker itself catches each kind of upward path, and lets through what it must.
#[test]
fn the_layer_check_sees_upward_paths_and_ignores_docs_tests_and_facade_reexports() {
    let layers = vec![
        vec!["net".to_owned()],
        vec!["runtime".to_owned()],
        vec!["scheduler".to_owned()],
        vec!["task".to_owned()],
    ];
    let ranks = ranks(&layers);
    // `file(&["task", "mod.rs"], …)` is `task/mod.rs`, module path `["task"]`.
    let file = |parts: &[&str], source: &str| {
        let relative: PathBuf = parts.iter().collect();
        (
            module_path(&relative),
            relative.display().to_string(),
            source.to_owned(),
        )
    };
    // The facade of `task` re-exports a spawn function of `runtime`.
    let facade = file(
        &["task", "mod.rs"],
        "pub use crate::runtime::spawn::{\n    spawn, JoinSet as Set,\n};\n",
    );
    let clean = [
        facade.clone(),
        file(&["net", "tcp.rs"], "use crate::runtime::context;\nuse crate::{task, runtime};\n"),
        file(&["task", "join.rs"], "/// [`spawn`](crate::runtime::spawn)\n// crate::net\n/* crate::net */\nlet s = \"crate::net\";\nlet r = r#\"crate::net \"quoted\"\"#;\nlet q = '\"'; use crate::task::x;\n"),
        file(&["task", "cell.rs"], "macro_rules! m { () => { $crate::net::x() } }\n"),
        file(&["task", "join.rs"], "fn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::runtime::Runtime;\n    fn g() { {} }\n}\n"),
        file(&["task", "join.rs"], "#[cfg(all(test, not(loom)))]\n#[allow(unused)]\nmod tests {\n    use crate::net::x;\n}\n"),
        file(&["runtime", "spawn", "join_set.rs"], "use super::super::context;\n"),
        file(&["net", "udp.rs"], "fn f() { crate::task::spawn(async {}); }\n"),
    ];
    assert_eq!(violations(&ranks, &clean), Vec::<String>::new());
    let upward = [
        file(&["task", "mod.rs"], "use crate::runtime::context;\n"),
        file(&["task", "join.rs"], "use crate::{net::TcpStream, task};\n"),
        file(
            &["task", "join.rs"],
            "use crate::{\n    task::{self, Header},\n    runtime::Handle,\n};\n",
        ),
        file(
            &["runtime", "handle.rs"],
            "fn f() { crate::net::connect(); }\n",
        ),
        file(
            &["task", "a", "b.rs"],
            "use super::super::super::runtime::Handle;\n",
        ),
        file(
            &["task", "a", "b.rs"],
            "use super::super::super::{runtime::Handle};\n",
        ),
        file(
            &["task", "join.rs"],
            "#[cfg(test)]\nmod tests {}\nuse crate::runtime::Handle;\n",
        ),
        file(
            &["task", "join.rs"],
            "#[cfg(not(test))]\nmod real {\n    use crate::net::x;\n}\n",
        ),
        file(
            &["task", "join.rs"],
            "#[cfg(any(test, feature = \"x\"))]\nmod sometimes {\n    use crate::net::x;\n}\n",
        ),
        file(&["task", "join.rs"], "pub use crate::runtime::Handle;\n"),
        file(
            &["runtime", "mod.rs"],
            "fn f() { crate::spawn(async {}); }\n",
        ),
        file(
            &["scheduler", "worker.rs"],
            "fn f() { crate::task::spawn(async {}); }\n",
        ),
        file(
            &["scheduler", "worker.rs"],
            "use crate::task::{Set, JoinHandle};\n",
        ),
    ];
    for (i, upward) in upward.iter().enumerate() {
        let files = [facade.clone(), upward.clone()];
        assert_eq!(
            violations(&ranks, &files).len(),
            1,
            "case {i} ({}) must be caught once: {:?}",
            upward.2,
            violations(&ranks, &files)
        );
    }
}
