//! Replays every committed fuzz input through the same checks the fuzz targets run: the
//! minimised corpora (`fuzz/corpus/<target>/`) and the inputs that once failed
//! (`fuzz/regressions/<target>/`). The ordinary test run keeps them passing without a fuzzer;
//! `scripts/fuzz.sh` is the fuzzer itself.
use std::path::{Path, PathBuf};

#[path = "../../fuzz/src/lib.rs"]
mod checks;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Runs every input of `target` through `check`; names each one that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let mut replayed = 0;
    let mut failed = Vec::new();
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                failed.push(path.display().to_string());
            }
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no corpus for the fuzz target {target}: run scripts/fuzz.sh --merge {target}");
    assert!(failed.is_empty(), "{} of {replayed} {target} inputs fail:\n{}", failed.len(), failed.join("\n"));
}

macro_rules! replays {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target), checks::$target);
            }
        )*

        /// Every fuzz target is replayed here, and every folder of inputs belongs to a target.
        #[test]
        fn every_fuzz_target_is_replayed() {
            let replayed = [$(stringify!($target)),*];
            for (name, _) in checks::TARGETS {
                assert!(replayed.contains(name), "add {name} to the replays in tests/it/fuzz_corpus.rs");
            }
            for kind in ["corpus", "regressions"] {
                for entry in std::fs::read_dir(fuzz_dir().join(kind)).into_iter().flatten() {
                    let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                    assert!(checks::TARGETS.iter().any(|(t, _)| *t == name), "fuzz/{kind}/{name} belongs to no target");
                }
            }
        }
    };
}

replays!(token, bearer, jsonrpc, fast_path, tool_args, dcr, cimd, redirect_uri, forms, next, cursor);
