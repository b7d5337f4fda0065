//! A cache of the schema the applied history leaves, so that a pull request's `check` replays
//! only the migrations merged since the last run instead of parsing the whole history again
//! (nearly all of the time on a 5,000-migration history).
//!
//! One file per migrations directory, in the user's cache directory (`MIGRATION_GATE_CACHE_DIR`,
//! else `$XDG_CACHE_HOME/migration-gate`, else the OS's cache folder). It holds the name and
//! SHA-256 of every migration it replayed, in order, and the schema they leave. It is used when
//! those migrations are the first ones of today's history, byte for byte; the rest is replayed on
//! top. Anything else (another tool build, a corrupt, foreign, truncated or hand-edited file) is
//! ignored and overwritten: the file is a header line, with the SHA-256 of the schema that
//! follows it, then the schema, which must hold nothing from a pending set. Writers write a private file and rename it into place, so concurrent runs never
//! leave a torn file. `check --no-cache` neither reads nor writes it.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::lint::schema::Schema;
use crate::project::discover::Migration;

/// Changes whenever the file's layout does.
const FORMAT: &str = "migration-gate history schema 2";

/// A migration as the cache recognizes it: its name and the SHA-256 of its source.
pub type Fingerprint = (String, String);

pub struct HistoryCache {
    file: PathBuf,
    /// The file, being read and parsed on another thread while the migrations are read.
    prefetched: Mutex<Option<JoinHandle<Option<Entry>>>>,
}

struct Entry {
    header: Header,
    schema: Schema,
}

/// The file's first line.
#[derive(Deserialize)]
struct Header {
    format: String,
    build: String,
    migrations: Vec<Fingerprint>,
    /// Of the rest of the file, the schema as written.
    schema_sha256: String,
}

/// [`Header`] borrowed, for writing.
#[derive(Serialize)]
struct HeaderRef<'a> {
    format: &'a str,
    build: &'a str,
    migrations: &'a [Fingerprint],
    schema_sha256: &'a str,
}

impl HistoryCache {
    /// The cache for the history in `migrations_dir`; `None` when there is no cache directory.
    pub fn for_dir(migrations_dir: &Path) -> Option<HistoryCache> {
        let root = cache_root()?;
        let dir = migrations_dir
            .canonicalize()
            .unwrap_or_else(|_| migrations_dir.to_path_buf());
        let id = hex(&Sha256::digest(dir.to_string_lossy().as_bytes()));
        Some(HistoryCache::at(
            root.join(format!("history-{}.json", &id[..24])),
        ))
    }

    /// A cache kept in `file`.
    pub fn at(file: PathBuf) -> HistoryCache {
        HistoryCache {
            file,
            prefetched: Mutex::new(None),
        }
    }

    /// Start reading the file on another thread: parsing a large schema takes about as long as
    /// reading the migrations, and [`HistoryCache::load`] needs both.
    pub fn prefetch(self) -> HistoryCache {
        let file = self.file.clone();
        let reader = std::thread::Builder::new().spawn(move || read_entry(&file));
        *self.prefetched.lock().unwrap_or_else(|e| e.into_inner()) = reader.ok();
        self
    }

    /// The schema the longest cached prefix of `history` leaves, and that prefix's length.
    pub fn load(&self, history: &[Fingerprint]) -> Option<(Schema, usize)> {
        let prefetched = self
            .prefetched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let entry = match prefetched {
            Some(reader) => reader.join().ok()??,
            None => read_entry(&self.file)?,
        };
        let replayed = entry.header.migrations.len();
        let usable = entry.header.format == FORMAT
            && entry.header.build == build_id()
            && replayed > 0
            && history.get(..replayed) == Some(&entry.header.migrations[..]);
        usable.then_some((entry.schema, replayed))
    }

    /// Remember the schema `history` leaves. Best effort: a cache that cannot be written only
    /// makes the next run slower, so failures are silent.
    pub fn store(&self, history: &[Fingerprint], schema: &Schema) {
        let Some(dir) = self.file.parent() else {
            return;
        };
        let Ok(schema) = serde_json::to_vec(schema) else {
            return;
        };
        let header = HeaderRef {
            format: FORMAT,
            build: &build_id(),
            migrations: history,
            schema_sha256: &hex(&Sha256::digest(&schema)),
        };
        // Compact JSON has no raw line break: the header is exactly the first line.
        let Ok(mut bytes) = serde_json::to_vec(&header) else {
            return;
        };
        bytes.push(b'\n');
        bytes.extend_from_slice(&schema);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let private = self.file.with_extension(format!(
            "{}.{}.{nanos}.tmp",
            std::process::id(),
            thread_id()
        ));
        let written = fs::create_dir_all(dir)
            .and_then(|_| fs::write(&private, &bytes))
            .and_then(|_| fs::rename(&private, &self.file));
        if written.is_err() {
            let _ = fs::remove_file(&private);
        }
    }
}

fn read_entry(file: &Path) -> Option<Entry> {
    // Opening a named pipe (or a device) waits for a writer: never open anything but a file.
    if !fs::metadata(file).ok()?.is_file() {
        return None;
    }
    let bytes = fs::read(file).ok()?;
    let line_end = bytes.iter().position(|&b| b == b'\n')?;
    let (header, schema) = (&bytes[..line_end], &bytes[line_end + 1..]);
    let header: Header = serde_json::from_slice(header).ok()?;
    if header.schema_sha256 != hex(&Sha256::digest(schema)) {
        return None;
    }
    let schema: Schema = serde_json::from_slice(schema).ok()?;
    schema
        .holds_only_history()
        .then_some(Entry { header, schema })
}

/// The fingerprints of `migrations`, in order.
pub fn fingerprints(migrations: &[&Migration]) -> Vec<Fingerprint> {
    migrations
        .iter()
        .map(|m| (m.name.clone(), hex(&Sha256::digest(m.source.as_bytes()))))
        .collect()
}

/// This build of the tool: its version, and the size and time of its executable (a rebuilt
/// binary may replay differently under the same version number).
fn build_id() -> String {
    let exe = std::env::current_exe()
        .and_then(fs::metadata)
        .map(|meta| {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{modified}", meta.len())
        })
        .unwrap_or_default();
    format!("{} {exe}", env!("CARGO_PKG_VERSION"))
}

fn cache_root() -> Option<PathBuf> {
    let from_env = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = from_env("MIGRATION_GATE_CACHE_DIR") {
        return Some(dir);
    }
    let base = if cfg!(windows) {
        from_env("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        from_env("HOME").map(|home| home.join("Library/Caches"))
    } else {
        from_env("XDG_CACHE_HOME").or_else(|| from_env("HOME").map(|home| home.join(".cache")))
    };
    Some(base?.join("migration-gate"))
}

fn thread_id() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut hasher);
    hasher.finish()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::schema::Origin;
    use crate::sql;

    fn temp_file(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "migration-gate-cache-{test}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir.join("history.json")
    }

    fn schema_of(sources: &[&str]) -> Schema {
        let mut schema = Schema::new();
        for source in sources {
            schema.begin_migration();
            for statement in sql::analyze_source(source) {
                for op in &statement.ops {
                    schema.apply(op, Origin::Existing);
                }
            }
        }
        schema
    }

    /// The migrations of a Prisma folder, in order.
    fn sources_in(dir: &Path) -> Vec<String> {
        let mut folders: Vec<PathBuf> = fs::read_dir(dir)
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        folders.sort();
        folders
            .iter()
            .filter_map(|folder| fs::read_to_string(folder.join("migration.sql")).ok())
            .collect()
    }

    fn replayed(sources: &[String], front_end: fn(&str) -> Vec<sql::Statement>) -> Schema {
        let mut schema = Schema::new();
        for source in sources {
            schema.begin_migration();
            for statement in front_end(source) {
                for op in &statement.ops {
                    schema.apply(op, Origin::Existing);
                }
            }
        }
        schema
    }

    /// History files skip the statements that cannot change the schema: the schema they leave
    /// is still the one the full front end gives, on the bundled and the synthetic histories.
    #[test]
    fn the_history_path_leaves_the_schema_the_full_front_end_does() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut histories = vec![sources_in(&root.join("migrations"))];
        let synthetic = temp_file("synthetic").with_file_name("migrations");
        let generated = std::process::Command::new("python3")
            .arg(root.join("bench/gen_history.py"))
            .arg("1500")
            .arg(&synthetic)
            .output()
            .is_ok_and(|o| o.status.success());
        if generated {
            histories.push(sources_in(&synthetic));
        } else {
            eprintln!("python3 bench/gen_history.py did not run: synthetic history skipped");
        }
        for sources in histories {
            assert!(sources.len() >= 10);
            let full = replayed(&sources, sql::analyze_source);
            let history = replayed(&sources, sql::analyze_history_source);
            assert_eq!(json(&history), json(&full));
        }
    }

    /// Statements the history path skips by their first word, next to ones it must not skip
    /// (data changes that are not first, DDL reached through a DO block or a routine, unparsable
    /// and malformed data statements): both front ends leave the same schema.
    #[test]
    fn the_history_path_agrees_with_the_full_front_end_on_tricky_statements() {
        let tricky: &[&str] = &[
            "CREATE TABLE \"T\" (\"id\" INT NOT NULL, \"n\" TEXT);\nCREATE INDEX \"T_n_idx\" ON \"T\"(\"n\");",
            "WITH gone AS (DELETE FROM \"T\" RETURNING *) INSERT INTO \"T\" SELECT * FROM gone;\nCREATE TABLE copy AS SELECT * FROM \"T\";",
            "INSERT INTO \"T\" VALUES (1, $$; CREATE TABLE hidden (id int); $$);\nCREATE TABLE after_insert (id int);",
            "insert/* no space */into \"T\" values (2, 'x');\nUPDATE \"T\" SET \"n\" = 'y' RETURNING *;\nDELETE FROM \"T\" WHERE false;",
            "COMMENT ON TABLE \"T\" IS 'CREATE TABLE not_a_table (id int)';\nGRANT SELECT ON \"T\" TO PUBLIC;\nREVOKE ALL ON \"T\" FROM PUBLIC;",
            "DO $$ DECLARE x int; BEGIN INSERT INTO \"T\" VALUES (3, 'z') RETURNING id INTO x; CREATE TABLE from_do (id int); END $$;",
            "CREATE FUNCTION mk() RETURNS void LANGUAGE plpgsql AS $$ BEGIN CREATE TABLE from_fn (id int); END $$;\nSELECT mk();\nINSERT INTO \"T\" SELECT 4, mk()::text;",
            "INSERT INTO \"T\" VALUES (5, 'a') ON CONFLICT (\"id\") DO UPDATE SET \"n\" = EXCLUDED.\"n\";\nALTER TABLE \"T\" ADD COLUMN \"m\" INT;",
            "INSERT INTO \"T\" OVERRIDING SYSTEM VALUE VALUES (6, 'b') ,, ;\nCREATE INDEX CONCURRENTLY \"T_m_idx\" ON \"T\"(\"m\");",
            "UPDATE ONLY \"T\" * SET ???;\nDROP INDEX IF EXISTS \"T_n_idx\";",
            "DELETE FROM \"T\" USING LATERAL garbage(;\nALTER TABLE \"T\" RENAME TO \"T2\";",
        ];
        let sources: Vec<String> = tricky.iter().map(|s| s.to_string()).collect();
        let full = replayed(&sources, sql::analyze_source);
        let history = replayed(&sources, sql::analyze_history_source);
        assert_eq!(json(&history), json(&full));
        // Every file on its own too: a file may leave the model unsure on its own.
        for source in &sources {
            let one = std::slice::from_ref(source);
            let full = replayed(one, sql::analyze_source);
            let history = replayed(one, sql::analyze_history_source);
            assert_eq!(json(&history), json(&full), "{source}");
        }
    }

    fn json(schema: &Schema) -> serde_json::Value {
        serde_json::to_value(schema).unwrap()
    }

    fn history(sources: &[&str]) -> Vec<Fingerprint> {
        sources
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("2024010100000{i}_m"), hex(&Sha256::digest(s))))
            .collect()
    }

    const FIRST: &str = "CREATE TYPE \"Role\" AS ENUM ('A');\nCREATE TABLE \"User\" (\"id\" INT NOT NULL, \"role\" \"Role\", CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));\nCREATE UNIQUE INDEX \"User_id_key\" ON \"User\"(\"id\");";
    const SECOND: &str = "ALTER TYPE \"Role\" RENAME TO \"Role_old\";\nCREATE TYPE \"Role\" AS ENUM ('A', 'B');\nCREATE FUNCTION purge() RETURNS int LANGUAGE plpgsql AS $$ BEGIN DROP TABLE \"User\"; RETURN 1; END $$;";

    #[test]
    fn a_stored_schema_comes_back_identical() {
        let cache = HistoryCache::at(temp_file("identical"));
        let schema = schema_of(&[FIRST, SECOND]);
        let fingerprints = history(&[FIRST, SECOND]);
        cache.store(&fingerprints, &schema);
        let (loaded, replayed) = cache.load(&fingerprints).expect("a cache hit");
        assert_eq!(replayed, 2);
        assert_eq!(json(&loaded), json(&schema));
        let prefetched = HistoryCache::at(cache.file.clone()).prefetch();
        let (loaded, _) = prefetched.load(&fingerprints).expect("a prefetched hit");
        assert_eq!(json(&loaded), json(&schema));
    }

    #[test]
    fn a_longer_history_reuses_the_cached_prefix_and_another_history_does_not() {
        let cache = HistoryCache::at(temp_file("prefix"));
        cache.store(&history(&[FIRST]), &schema_of(&[FIRST]));
        assert_eq!(
            cache.load(&history(&[FIRST, SECOND])).map(|(_, n)| n),
            Some(1)
        );
        // An edited first migration, or a shorter history: nothing to reuse.
        assert!(cache.load(&history(&[SECOND, SECOND])).is_none());
        assert!(cache.load(&[]).is_none());
    }

    #[test]
    fn a_corrupt_foreign_or_missing_file_is_ignored() {
        let file = temp_file("corrupt");
        let cache = HistoryCache::at(file.clone());
        assert!(cache.load(&history(&[FIRST])).is_none());
        cache.store(&history(&[FIRST]), &schema_of(&[FIRST]));
        let good = fs::read_to_string(&file).unwrap();
        for bad in [
            good[..good.len() / 2].to_string(),
            "not json".to_string(),
            good.replace(FORMAT, "some other tool"),
            good.replace(&build_id(), "0.0.1 another build"),
            // Valid JSON edited by hand: the checksum no longer matches.
            good.replace("\"is_new\":false", "\"is_new\":true"),
            good.replace("\"User\"", "\"Other\""),
            // Rewritten with a matching checksum: a history replay never leaves a new table.
            with_checksum(&good.replace("\"is_new\":false", "\"is_new\":true")),
            String::new(),
            "\n".to_string(),
        ] {
            fs::write(&file, bad).unwrap();
            assert!(cache.load(&history(&[FIRST])).is_none());
        }
    }

    /// `file` with its header's checksum made to match its schema again.
    fn with_checksum(file: &str) -> String {
        let (header, schema) = file.split_once('\n').unwrap();
        let mut header: serde_json::Value = serde_json::from_str(header).unwrap();
        header["schema_sha256"] = hex(&Sha256::digest(schema)).into();
        format!("{header}\n{schema}")
    }

    #[test]
    fn a_file_edited_with_a_matching_checksum_is_still_read() {
        let file = temp_file("rechecksummed");
        let cache = HistoryCache::at(file.clone());
        cache.store(&history(&[FIRST]), &schema_of(&[FIRST]));
        let good = fs::read_to_string(&file).unwrap();
        fs::write(&file, with_checksum(&good)).unwrap();
        assert!(
            cache.load(&history(&[FIRST])).is_some(),
            "the helper is sound"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_in_place_of_the_file_does_not_hang_the_run() {
        let file = temp_file("fifo");
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(&file)
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            eprintln!("mkfifo did not run: skipped");
            return;
        }
        let (done, finished) = std::sync::mpsc::channel();
        let reader = file.clone();
        std::thread::spawn(move || {
            let cache = HistoryCache::at(reader).prefetch();
            let _ = done.send(cache.load(&history(&[FIRST])).is_none());
        });
        let ignored = finished.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(ignored, Ok(true), "a pipe is not read");
        // The next store replaces the pipe with a file.
        let cache = HistoryCache::at(file);
        cache.store(&history(&[FIRST]), &schema_of(&[FIRST]));
        assert!(cache.load(&history(&[FIRST])).is_some());
    }

    #[test]
    fn concurrent_writers_never_leave_a_torn_file() {
        let file = temp_file("concurrent");
        let fingerprints = history(&[FIRST, SECOND]);
        let schema = schema_of(&[FIRST, SECOND]);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let cache = HistoryCache::at(file.clone());
                    for _ in 0..25 {
                        cache.store(&fingerprints, &schema);
                        let (loaded, _) = cache.load(&fingerprints).expect("a whole file");
                        assert_eq!(json(&loaded), json(&schema));
                    }
                });
            }
        });
        let leftovers = fs::read_dir(file.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "only the cache file remains");
    }
}
