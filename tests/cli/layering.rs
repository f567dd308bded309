//! The layering rule of ARCHITECTURE.md, checked from the source: the paths each file
//! of `src/` names (`use` lines and paths in code, `crate::`, `super::` and, in
//! `main.rs`, `offboard::`) resolved to the files they live in.
//!
//! - `main.rs` → `commands` → library modules → `docspace` (the client): never
//!   against the direction.
//! - No command file is named by any other file but `commands/mod.rs` (dispatch).
//! - The simulator shares no types with the client: only the commands that run it
//!   (`sim`, `demo`) and `cli.rs` (its flags) name `docspace_sim`, and the
//!   simulator's crate never names `offboard`.
//! - No cycle between files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::repo;

/// Every `.rs` file under `dir`, as paths relative to `root`.
fn sources(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

/// The module path of a file of `src/` (`executor/run.rs` → `executor::run`).
fn module_of(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> = file
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "mod.rs" | "lib.rs" | "main.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_owned()),
    }
    parts
}

/// Source text without comments (line comments and doc comments), so prose that
/// mentions a path is not a dependency.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Reads `a::b::{c, d::e}` at the start of `text`: every path it names.
fn paths_at(text: &str) -> Vec<Vec<String>> {
    let mut prefix = Vec::new();
    let mut rest = text;
    loop {
        let ident: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        if ident.is_empty() {
            if let Some(group) = rest.strip_prefix('{') {
                // A group: split at top-level commas, each a path of its own.
                let mut depth = 0;
                let mut item = String::new();
                let mut out = Vec::new();
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            for p in paths_at(item.trim()) {
                                out.push([prefix.clone(), p].concat());
                            }
                            item.clear();
                            continue;
                        }
                        _ => {}
                    }
                    item.push(c);
                }
                for p in paths_at(item.trim()) {
                    out.push([prefix.clone(), p].concat());
                }
                return out;
            }
            return vec![prefix];
        }
        rest = &rest[ident.len()..];
        prefix.push(ident);
        match rest.strip_prefix("::") {
            Some(more) => rest = more,
            None => return vec![prefix],
        }
    }
}

/// The files `file` depends on.
fn dependencies(src: &Path, file: &Path, text: &str) -> BTreeSet<PathBuf> {
    let module = module_of(file);
    let code = code_of(text);
    let mut found = BTreeSet::new();
    let roots: &[&str] = if file == Path::new("main.rs") {
        &["offboard::"]
    } else {
        &["crate::", "super::"]
    };
    for root in roots {
        for (at, _) in code.match_indices(root) {
            // `pub(in crate::executor)` is a visibility, not a dependency.
            if code[..at].chars().next_back().is_some_and(is_ident) || code[..at].ends_with("(in ")
            {
                continue;
            }
            for path in paths_at(&code[at + root.len()..]) {
                let mut full = match *root {
                    "super::" => {
                        // `super` of a file `a/b.rs` (module a::b) is `a`; inside its
                        // `mod tests` it is the file itself.
                        let parent = &module[..module.len().saturating_sub(1)];
                        if path.first().is_some_and(|p| p == "*") || path.is_empty() {
                            continue;
                        }
                        parent.to_vec()
                    }
                    _ => Vec::new(),
                };
                full.extend(path);
                if let Some(target) = resolve(src, &full)
                    && target != file
                {
                    found.insert(target);
                }
            }
        }
    }
    // Paths relative to the file's own module: its child modules (`mod pacer;` and
    // then `pub use pacer::Lane`).
    let children: Vec<&str> = code
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';')
        })
        .collect();
    for child in children {
        let at_child = format!("{child}::");
        for (at, _) in code.match_indices(&at_child) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| is_ident(c) || c == ':') {
                continue;
            }
            for path in paths_at(&code[at..]) {
                let full = [module.clone(), path].concat();
                if let Some(target) = resolve(src, &full)
                    && target != file
                {
                    found.insert(target);
                }
            }
        }
    }
    found
}

/// The file that holds the longest prefix of `path`.
fn resolve(src: &Path, path: &[String]) -> Option<PathBuf> {
    (1..=path.len()).rev().find_map(|n| {
        let dir: PathBuf = path[..n].iter().collect();
        [dir.with_extension("rs"), dir.join("mod.rs")]
            .into_iter()
            .find(|candidate| src.join(candidate).is_file())
    })
}

/// 0 `main.rs`, 1 the commands and their command line, 3 the DocSpace client, 2
/// every other (library) module.
fn layer(file: &Path) -> u8 {
    let first = file.iter().next().unwrap().to_string_lossy();
    match first.as_ref() {
        "main.rs" => 0,
        "commands" | "cli.rs" => 1,
        "docspace" => 3,
        _ => 2,
    }
}

fn graph() -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let src = repo().join("src");
    let mut files = Vec::new();
    sources(&src, &src, &mut files);
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(src.join(&file)).unwrap();
            let deps = dependencies(&src, &file, &text);
            (file, deps)
        })
        .collect()
}

#[test]
fn imports_follow_the_layers_and_no_command_is_imported() {
    let graph = graph();
    let mut wrong = Vec::new();
    for (file, deps) in &graph {
        for dep in deps {
            let command_file = dep.starts_with("commands") && dep != Path::new("commands/mod.rs");
            if command_file && file != Path::new("commands/mod.rs") {
                wrong.push(format!(
                    "{} imports the command {}",
                    file.display(),
                    dep.display()
                ));
            } else if layer(dep) < layer(file) {
                wrong.push(format!(
                    "{} (layer {}) imports {} (layer {}), against the direction",
                    file.display(),
                    layer(file),
                    dep.display(),
                    layer(dep)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "main → commands → library → docspace:\n{}",
        wrong.join("\n")
    );
    // The rule reads real imports: the dispatcher names every command.
    assert!(graph[Path::new("commands/mod.rs")].contains(Path::new("commands/apply.rs")));
}

#[test]
fn no_cycle_between_files() {
    let graph = graph();
    // Depth-first search with colours; a grey target is a cycle.
    fn visit<'a>(
        file: &'a PathBuf,
        graph: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        colour: &mut BTreeMap<&'a PathBuf, u8>,
        stack: &mut Vec<&'a PathBuf>,
        cycles: &mut Vec<String>,
    ) {
        colour.insert(file, 1);
        stack.push(file);
        for dep in graph.get(file).into_iter().flatten() {
            match colour.get(dep).copied().unwrap_or(0) {
                0 => visit(dep, graph, colour, stack, cycles),
                1 => {
                    let from = stack.iter().position(|f| *f == dep).unwrap();
                    let cycle: Vec<String> = stack[from..]
                        .iter()
                        .chain(std::iter::once(&dep))
                        .map(|f| f.display().to_string())
                        .collect();
                    cycles.push(cycle.join(" → "));
                }
                _ => {}
            }
        }
        stack.pop();
        colour.insert(file, 2);
    }
    let mut colour = BTreeMap::new();
    let mut cycles = Vec::new();
    for file in graph.keys() {
        if !colour.contains_key(file) {
            visit(file, &graph, &mut colour, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_simulator_shares_no_types_with_the_client() {
    let src = repo().join("src");
    let mut files = Vec::new();
    sources(&src, &src, &mut files);
    let allowed = ["commands/sim.rs", "commands/demo.rs", "cli.rs"];
    let mut wrong = Vec::new();
    for file in &files {
        let code = code_of(&std::fs::read_to_string(src.join(file)).unwrap());
        if code.contains("docspace_sim") && !allowed.iter().any(|a| file == Path::new(a)) {
            wrong.push(file.display().to_string());
        }
    }
    let sim = repo().join("crates/docspace-sim");
    let mut sim_files = Vec::new();
    sources(&sim, &sim.join("src"), &mut sim_files);
    for file in &sim_files {
        let code = code_of(&std::fs::read_to_string(sim.join(file)).unwrap());
        if code.contains("offboard::") {
            wrong.push(format!("crates/docspace-sim/{}", file.display()));
        }
    }
    let manifest = std::fs::read_to_string(sim.join("Cargo.toml")).unwrap();
    assert!(
        !manifest.contains("docspace-offboard"),
        "the simulator depends on the client's crate"
    );
    assert!(
        wrong.is_empty(),
        "files crossing between client and simulator: {wrong:?}"
    );
}

#[test]
fn paths_are_read_as_rust_writes_them() {
    let src = repo().join("src");
    let deps = dependencies(
        &src,
        Path::new("executor/fileops.rs"),
        "use crate::docspace::{ApiError, model::Operation};\n// crate::plan is prose\nuse super::pacer::Lane;\nfn f() { crate::journal::now(); }",
    );
    let names: Vec<String> = deps.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(
        names,
        [
            "docspace/mod.rs",
            "docspace/model.rs",
            "executor/pacer.rs",
            "journal/mod.rs"
        ]
    );
}
