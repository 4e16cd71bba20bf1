//! The layers of `runtime/src` point one way: every path into another top-level module
//! (`crate::net::…`, `crate::{driver, task}`, `super::super::time`, …) goes to a layer
//! below the file's own, as the table in `docs/architecture.md` ("Layers") draws them.
//!
//! The table is the source of truth: this test reads it, so a change of the layers is a
//! change of the document. Not counted as imports: comments and docs (a doc link may point
//! anywhere), `$crate` paths in macros (they expand in the caller), `pub use` re-exports
//! (they shape the public API, like `filch::task` re-exporting the spawn functions that
//! live in `runtime/`, and are not used by the module that re-exports them), and
//! `#[cfg(test)]` modules (a layer's unit tests may build a whole runtime). `lib.rs` is
//! the facade over all of them.
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

/// Source without comments and string literals (their text is not code), and without
/// `#[cfg(test)]` modules.
fn code_of(source: &str) -> String {
    let mut code = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        code.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                code.push_str("\"\"");
                let mut escaped = false;
                for c in chars.by_ref() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
            }
            _ => code.push(c),
        }
    }
    drop_test_modules(&code)
}

/// Cuts every module compiled only for tests (`#[cfg(test)] mod … { … }`, also
/// `#[cfg(all(test, …))]`; braces counted).
fn drop_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(") {
        let attribute_end = rest[at..].find(")]").map_or(rest.len(), |i| at + i + 2);
        let condition = &rest[at..attribute_end];
        let for_tests = condition
            .split(|c: char| !is_ident_char(c))
            .any(|word| word == "test")
            && !condition.contains("not(test");
        let after = &rest[attribute_end..];
        let open = after.find('{');
        match open {
            Some(open)
                if for_tests
                    && after.trim_start().starts_with("mod ")
                    && !after[..open].contains(';') =>
            {
                out.push_str(&rest[..at]);
                let mut depth = 0usize;
                let mut end = after.len();
                for (i, c) in after[open..].char_indices() {
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
                rest = &after[end..];
            }
            _ => {
                out.push_str(&rest[..attribute_end]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Drops `pub use …;` items (re-exports), which may name any layer.
fn drop_reexports(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = find_item(rest, "pub use ") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').map_or(rest.len(), |i| at + i + 1);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The first `needle` at the start of an item (after a line start and indentation).
fn find_item(code: &str, needle: &str) -> Option<usize> {
    let mut offset = 0;
    for line in code.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        if line.trim_start().starts_with(needle) {
            return Some(offset + indent);
        }
        offset += line.len();
    }
    None
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The top-level modules a file's code reaches: `(module, line)` for each path.
/// `module_path` is the file's own module path (`["net", "tcp", "stream"]`).
fn reached_modules(code: &str, module_path: &[String]) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    for (number, line) in code.lines().enumerate() {
        let mut search = 0;
        while let Some(i) = line[search..].find("crate::").map(|i| search + i) {
            search = i + "crate::".len();
            let before = line[..i].chars().next_back();
            if before.is_some_and(|c| is_ident_char(c) || c == '$') {
                continue;
            }
            let rest = &line[search..];
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a, b::c}`: the first segment of each entry (one line here;
                // rustfmt keeps short groups on one line, and longer ones still start
                // each entry on its own line, which the next rule catches).
                let group = group.split('}').next().unwrap_or("");
                for entry in group.split(',') {
                    let name: String = entry
                        .trim()
                        .chars()
                        .take_while(|&c| is_ident_char(c))
                        .collect();
                    if !name.is_empty() {
                        found.push((name, number + 1));
                    }
                }
            } else {
                let name: String = rest.chars().take_while(|&c| is_ident_char(c)).collect();
                found.push((name, number + 1));
            }
        }
        // `super::super::x` that climbs out of the file's top-level module.
        let mut search = 0;
        while let Some(i) = line[search..].find("super::").map(|i| search + i) {
            let before = line[..i].chars().next_back();
            let mut rest = &line[i..];
            search = i + "super::".len();
            if before.is_some_and(|c| is_ident_char(c) || c == ':') {
                continue;
            }
            let mut climbs = 0;
            while let Some(r) = rest.strip_prefix("super::") {
                climbs += 1;
                rest = r;
            }
            search = line.len() - rest.len();
            let name: String = rest.chars().take_while(|&c| is_ident_char(c)).collect();
            if climbs >= module_path.len() && !name.is_empty() {
                found.push((name, number + 1));
            }
        }
    }
    found
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

/// Every import against the layers, as `file:line: a -> b` lines.
fn violations(
    ranks: &HashMap<String, usize>,
    files: &[(Vec<String>, String, String)],
) -> Vec<String> {
    let mut found = Vec::new();
    for (path, shown, source) in files {
        let own = &path[0];
        if own == "lib" {
            continue;
        }
        let own_rank = *ranks.get(own).unwrap_or_else(|| {
            panic!("module `{own}` ({shown}) is in no layer of architecture.md")
        });
        let code = drop_reexports(&code_of(source));
        for (target, line) in reached_modules(&code, path) {
            if &target == own {
                continue;
            }
            match ranks.get(&target) {
                Some(&rank) if rank > own_rank => {}
                Some(_) => found.push(format!(
                    "{shown}:{line}: `{own}` uses `{target}`, which is not below it"
                )),
                // Items of lib.rs itself (`crate::spawn`, `crate::sync`) are the facade:
                // inside the crate, use the module that defines them.
                None => found.push(format!(
                    "{shown}:{line}: `{own}` uses `crate::{target}`, which is in no layer"
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
fn the_layer_check_sees_upward_paths_and_ignores_docs_tests_and_reexports() {
    let layers = vec![
        vec!["net".to_owned()],
        vec!["runtime".to_owned()],
        vec!["task".to_owned()],
    ];
    let ranks = ranks(&layers);
    let file = |path: &[&str], source: &str| {
        (
            path.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            path.join("/"),
            source.to_owned(),
        )
    };
    let clean = [
        file(&["net", "tcp"], "use crate::runtime::context;\nuse crate::{task, runtime};\n"),
        file(&["task", "mod"], "/// [`spawn`](crate::runtime::spawn)\n// crate::net\nlet s = \"crate::net\";\n"),
        file(&["task"], "pub use crate::runtime::spawn::{\n    spawn, JoinSet,\n};\n"),
        file(&["task", "cell"], "macro_rules! m { () => { $crate::net::x() } }\n"),
        file(&["task", "join"], "fn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::runtime::Runtime;\n    fn g() { {} }\n}\n"),
        file(&["task", "join"], "#[cfg(all(test, not(loom)))]\nmod tests {\n    use crate::net::x;\n}\n"),
        file(&["runtime", "spawn", "join_set"], "use super::super::context;\n"),
    ];
    assert_eq!(violations(&ranks, &clean), Vec::<String>::new());
    let upward = [
        file(&["task"], "use crate::runtime::context;\n"),
        file(&["task", "join"], "use crate::{net::TcpStream, task};\n"),
        file(
            &["runtime", "handle"],
            "fn f() { crate::net::connect(); }\n",
        ),
        file(
            &["task", "a", "b"],
            "use super::super::super::runtime::Handle;\n",
        ),
        file(
            &["task", "join"],
            "#[cfg(test)]\nmod tests {}\nuse crate::runtime::Handle;\n",
        ),
        file(
            &["task", "join"],
            "#[cfg(not(test))]\nmod real {\n    use crate::net::x;\n}\n",
        ),
        file(&["runtime"], "fn f() { crate::spawn(async {}); }\n"),
    ];
    for (i, upward) in upward.iter().enumerate() {
        assert_eq!(
            violations(&ranks, std::slice::from_ref(upward)).len(),
            1,
            "case {i} ({}) must be caught",
            upward.2
        );
    }
}
