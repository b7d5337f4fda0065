//! Find the migrations of a project: Prisma's `<dir>/<folder>/migration.sql` layout, or a plain
//! folder of `*.sql` files for teams not on Prisma.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::error::{AppError, Result};
use crate::spelling::edit_distance;
use crate::surface::Setting;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `<dir>/<name>/migration.sql` (+ optional `down.sql`), `migration_lock.toml`.
    Prisma,
    /// `<dir>/*.sql`, sorted by file name.
    PlainSql,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// Prisma: the folder name (what `_prisma_migrations.migration_name` holds). Plain: the file
    /// name without `.sql`.
    pub name: String,
    /// The SQL file itself.
    pub path: PathBuf,
    /// The path as reports show it: relative to the working directory when below it.
    pub display_path: String,
    /// The file's contents (UTF-8 checked). Checksums are computed from these bytes.
    pub source: String,
    /// `down.sql` next to `migration.sql`, when present (used by `rollback`).
    pub down_path: Option<PathBuf>,
}

impl Migration {
    /// A migration that exists only in memory (examples and tests), at `name/migration.sql`.
    pub fn in_memory(name: &str, source: &str) -> Migration {
        Migration {
            name: name.to_string(),
            path: PathBuf::from(format!("{name}/migration.sql")),
            display_path: format!("{name}/migration.sql"),
            source: source.to_string(),
            down_path: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSet {
    pub dir: PathBuf,
    pub layout: Layout,
    /// In apply order: byte order of the folder (or file) names.
    pub migrations: Vec<Migration>,
}

impl MigrationSet {
    pub fn find(&self, name: &str) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.name == name)
    }

    /// An error naming `flag` unless `name` is a migration of the set, with the closest names.
    pub fn ensure_known(&self, name: &str, flag: &str) -> Result<()> {
        if self.find(name).is_some() {
            return Ok(());
        }
        Err(AppError::usage(format!(
            "{flag} {name}: no such migration in {}{}",
            display_path(&self.dir),
            self.suggestions(name)
        )))
    }

    /// "; did you mean: a, b" with the closest migration names, or the newest names when none
    /// is close.
    pub fn suggestions(&self, wanted: &str) -> String {
        let wanted_name = Path::new(wanted)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(wanted);
        let mut scored: Vec<(usize, &str)> = self
            .migrations
            .iter()
            .map(|m| (edit_distance(wanted_name, &m.name), m.name.as_str()))
            .collect();
        scored.sort();
        let limit = wanted_name.chars().count() / 3 + 2;
        let close: Vec<&str> = scored
            .iter()
            .filter(|(d, name)| *d <= limit || name.contains(wanted_name))
            .take(3)
            .map(|(_, name)| *name)
            .collect();
        if !close.is_empty() {
            return format!("; did you mean: {}", close.join(", "));
        }
        let newest: Vec<&str> = self
            .migrations
            .iter()
            .rev()
            .take(3)
            .map(|m| m.name.as_str())
            .collect();
        if newest.is_empty() {
            "; the directory has no migrations".to_string()
        } else {
            format!("; the newest are: {}", newest.join(", "))
        }
    }
}

/// The default `--dir`: `prisma/migrations` if present, else `migrations`.
pub fn default_dir() -> PathBuf {
    let prisma = Path::new("prisma/migrations");
    if prisma.is_dir() {
        prisma.to_path_buf()
    } else {
        PathBuf::from("migrations")
    }
}

pub const LOCK_FILE: &str = "migration_lock.toml";
const MIGRATION_FILE: &str = "migration.sql";
const DOWN_FILE: &str = "down.sql";

/// Read every migration under `dir`, in apply order.
pub fn discover(dir: &Path) -> Result<MigrationSet> {
    let shown_dir = display_path(dir);
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(AppError::usage(format!(
                "migrations directory {shown_dir} is not a directory; pass the folder that holds your migrations with {}",
                Setting::MigrationsDir
            )))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(AppError::usage(format!(
                "migrations directory {shown_dir} does not exist; pass the folder that holds your migrations with {}",
                Setting::MigrationsDir
            )))
        }
        Err(err) => return Err(AppError::io(dir, &err)),
    }

    let entries = list_dir(dir)?;
    let lock_file = dir.join(LOCK_FILE);
    let has_lock = lock_file.is_file();
    if has_lock {
        check_lock_provider(&lock_file)?;
    }
    let folders: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.is_dir && !e.name.starts_with('.'))
        .collect();
    let sql_files: Vec<&Entry> = entries
        .iter()
        .filter(|e| !e.is_dir && e.name.ends_with(".sql"))
        .collect();
    let prisma_folders = folders
        .iter()
        .any(|f| f.path.join(MIGRATION_FILE).is_file());

    // `--dir prisma` or `--dir .`: a folder above the migrations folder, not one itself.
    let nested = ["prisma/migrations", "migrations"]
        .into_iter()
        .map(|below| dir.join(below))
        .find(|candidate| candidate.is_dir());
    if let Some(nested) = nested.filter(|_| !has_lock && !prisma_folders && sql_files.is_empty()) {
        return Err(AppError::usage(format!(
            "{shown_dir} holds a migrations folder rather than migrations; pass --dir {}",
            display_path(&nested)
        )));
    }
    // `--dir prisma/migrations/<name>`: one migration's folder. Read as a plain-SQL folder, its
    // `migration.sql` would become a migration named `migration`, and `deploy` would record it so.
    let only_prisma_files = sql_files
        .iter()
        .all(|f| f.name == MIGRATION_FILE || f.name == DOWN_FILE);
    if !has_lock && !prisma_folders && only_prisma_files && dir.join(MIGRATION_FILE).is_file() {
        let parent = match dir.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => dir.join(".."),
        };
        return Err(AppError::usage(format!(
            "{shown_dir} is one migration's folder (it holds {MIGRATION_FILE}); pass the folder that holds the migrations: --dir {}",
            display_path(&parent)
        )));
    }

    let layout = if has_lock || prisma_folders || sql_files.is_empty() {
        Layout::Prisma
    } else {
        Layout::PlainSql
    };
    let mut migrations = match layout {
        Layout::Prisma => read_in_parallel(&folders, prisma_migration)?,
        Layout::PlainSql => plain_migrations(&sql_files)?,
    };
    let linked_folders: Vec<&Path> = entries
        .iter()
        .filter(|e| e.is_link)
        .map(|e| e.path.as_path())
        .collect();
    for migration in &migrations {
        refuse_links_out_of(dir, migration, &linked_folders)?;
    }
    // Prisma (before 6.6) and every plain-SQL tool apply in byte order of the names.
    migrations.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(MigrationSet {
        dir: dir.to_path_buf(),
        layout,
        migrations,
    })
}

/// `read` applied to every entry, in order, spread over the machine's cores: a 5,000-migration
/// history is 5,000 folders to open, mostly system-call time. The first error in entry order wins.
fn read_in_parallel(
    entries: &[&Entry],
    read: fn(&Entry) -> Result<Migration>,
) -> Result<Vec<Migration>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    if workers < 2 || entries.len() < 64 {
        return entries.iter().map(|e| read(e)).collect();
    }
    let chunk = entries.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = entries
            .chunks(chunk)
            .map(|part| {
                let handle = scope.spawn(move || part.iter().map(|e| read(e)).collect::<Vec<_>>());
                (handle, part)
            })
            .collect();
        let mut migrations = Vec::with_capacity(entries.len());
        for (handle, part) in handles {
            // A worker that panicked: read its part here, so the error (if any) is reported.
            let results = handle
                .join()
                .unwrap_or_else(|_| part.iter().map(|e| read(e)).collect());
            for result in results {
                migrations.push(result?);
            }
        }
        Ok(migrations)
    })
}

struct Entry {
    name: String,
    path: PathBuf,
    is_dir: bool,
    /// A symbolic link (to a folder or a file).
    is_link: bool,
}

/// A migration's files must lie inside the migrations directory, whatever links lead to them: a
/// pull request can commit `migration.sql` as a link to `/proc/self/environ` or `.git/config`
/// (where the checkout keeps its token), and the report would quote the secret as SQL.
fn refuse_links_out_of(dir: &Path, migration: &Migration, linked_folders: &[&Path]) -> Result<()> {
    let files = std::iter::once(&migration.path).chain(migration.down_path.as_ref());
    for file in files {
        let through_folder = linked_folders.iter().any(|folder| file.starts_with(folder));
        let is_link = through_folder
            || fs::symlink_metadata(file)
                .map(|meta| meta.file_type().is_symlink())
                .map_err(|err| AppError::io(file, &err))?;
        if !is_link {
            continue;
        }
        let inside = match (dir.canonicalize(), file.canonicalize()) {
            (Ok(dir), Ok(target)) => {
                target.starts_with(&dir)
                    && !target
                        .strip_prefix(&dir)
                        .is_ok_and(|below| below.components().any(|c| c.as_os_str() == ".git"))
            }
            _ => false,
        };
        if !inside {
            return Err(AppError::usage(format!(
                "{} is a symbolic link that leads out of the migrations directory {}; migration-gate reads only migration files inside it (copy the file in instead of linking it)",
                display_path(file),
                display_path(dir)
            )));
        }
    }
    Ok(())
}

fn list_dir(dir: &Path) -> Result<Vec<Entry>> {
    let read = fs::read_dir(dir).map_err(|err| AppError::io(dir, &err))?;
    let mut entries = Vec::new();
    for entry in read {
        let entry = entry.map_err(|err| AppError::io(dir, &err))?;
        let path = entry.path();
        let name = entry.file_name().into_string().map_err(|_| {
            AppError::usage(format!(
                "{}: the name is not valid UTF-8; rename it",
                display_path(&path)
            ))
        })?;
        // Follow symlinks: a symlinked migration folder is still a migration. The directory
        // listing already knows the type of everything else (no system call per entry).
        let (is_dir, is_link) = match entry.file_type() {
            Ok(kind) if !kind.is_symlink() => (kind.is_dir(), false),
            _ => (
                fs::metadata(&path)
                    .map(|m| m.is_dir())
                    .map_err(|err| AppError::io(&path, &err))?,
                true,
            ),
        };
        entries.push(Entry {
            name,
            path,
            is_dir,
            is_link,
        });
    }
    Ok(entries)
}

/// Prisma writes `provider = "postgresql"`; any other provider's SQL is not ours to judge.
fn check_lock_provider(lock_file: &Path) -> Result<()> {
    let text = read_utf8(lock_file)?;
    let shown = display_path(lock_file);
    let table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
        AppError::usage(format!(
            "{shown} is not valid TOML ({}); Prisma writes it as provider = \"postgresql\"",
            err.message()
        ))
    })?;
    match table.get("provider") {
        Some(toml::Value::String(provider)) if provider == "postgresql" => Ok(()),
        Some(toml::Value::String(provider)) => Err(AppError::usage(format!(
            "{shown} says provider = \"{provider}\"; migration-gate checks PostgreSQL migrations only (provider = \"postgresql\")"
        ))),
        Some(_) | None => Err(AppError::usage(format!(
            "{shown} has no provider = \"...\" line; migration-gate expects provider = \"postgresql\""
        ))),
    }
}

fn prisma_migration(folder: &Entry) -> Result<Migration> {
    let path = folder.path.join(MIGRATION_FILE);
    // Read first, ask why only when that fails: one system call less per migration.
    let source = match read_migration(&path) {
        Err(_) if !path.is_file() => {
            return Err(AppError::usage(format!(
                "migration folder {} has no {MIGRATION_FILE}; add it, or move the folder out of the migrations directory",
                display_path(&folder.path)
            )))
        }
        read => read?,
    };
    let down = folder.path.join(DOWN_FILE);
    Ok(Migration {
        name: folder.name.clone(),
        source,
        display_path: display_path(&path),
        path,
        down_path: down.is_file().then_some(down),
    })
}

/// `<name>.sql` files; `<name>.down.sql` (golang-migrate, dbmate style) is the down script of
/// `<name>.sql` or `<name>.up.sql`, not a migration of its own.
fn plain_migrations(files: &[&Entry]) -> Result<Vec<Migration>> {
    let down_scripts: Vec<&&Entry> = files
        .iter()
        .filter(|f| f.name.ends_with(".down.sql"))
        .collect();
    let mut migrations = Vec::new();
    for file in files.iter().filter(|f| !f.name.ends_with(".down.sql")) {
        let name = file.name.trim_end_matches(".sql").to_string();
        let base = name.strip_suffix(".up").unwrap_or(&name);
        let down_name = format!("{base}.down.sql");
        let down_path = down_scripts
            .iter()
            .find(|d| d.name == down_name)
            .map(|d| d.path.clone());
        migrations.push(Migration {
            source: read_migration(&file.path)?,
            display_path: display_path(&file.path),
            path: file.path.clone(),
            name,
            down_path,
        });
    }
    Ok(migrations)
}

/// Read a file that must be UTF-8 text; the error names the file and the first bad byte.
pub fn read_utf8(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|err| AppError::io(path, &err))?;
    utf8(path, bytes)
}

/// [`read_utf8`] for a migration file, which must be a regular file.
fn read_migration(path: &Path) -> Result<String> {
    let bytes = read_regular_file(path).map_err(|err| AppError::io(path, &err))?;
    utf8(path, bytes)
}

fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|err| {
        let offset = err.utf8_error().valid_up_to();
        let bytes = err.as_bytes();
        let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
        AppError::usage(format!(
            "{} is not valid UTF-8 (line {line}, byte offset {offset}); save it as UTF-8",
            display_path(path)
        ))
    })
}

/// The bytes of a regular file. A symlink a pull request commits may lead to a device instead
/// (`/dev/zero`), which would be read until memory runs out: checked on the open file, so it
/// costs no system call more than a read.
fn read_regular_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `path` as reports show it: relative to the working directory when it lies below it, else
/// as given (absolute paths stay absolute).
pub fn display_path(path: &Path) -> String {
    let shown = if path.is_absolute() {
        below_working_dir(path).unwrap_or_else(|| path.to_path_buf())
    } else {
        path.components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect()
    };
    let text = shown.to_string_lossy().into_owned();
    if text.is_empty() {
        ".".to_string()
    } else {
        text
    }
}

fn below_working_dir(path: &Path) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    if let Ok(relative) = path.strip_prefix(&cwd) {
        return Some(relative.to_path_buf());
    }
    // The same place spelled through a symlink (/tmp → /private/tmp, a symlinked home).
    let real_cwd = cwd.canonicalize().ok()?;
    let real_path = path.canonicalize().ok()?;
    real_path
        .strip_prefix(&real_cwd)
        .ok()
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, relative: &str, contents: &[u8]) {
        let path = root.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    fn prisma_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            LOCK_FILE,
            b"# Please do not edit this file manually\nprovider = \"postgresql\"\n",
        );
        dir
    }

    fn names(set: &MigrationSet) -> Vec<&str> {
        set.migrations.iter().map(|m| m.name.as_str()).collect()
    }

    #[test]
    fn prisma_folders_in_byte_order_with_down_sql() {
        let dir = prisma_dir();
        write(dir.path(), "20240102000000_b/migration.sql", b"SELECT 2;");
        write(dir.path(), "20240101000000_a/migration.sql", b"SELECT 1;");
        write(dir.path(), "20240101000000_a/down.sql", b"SELECT 0;");
        // Upper case sorts before lower case in byte order.
        write(dir.path(), "20240101000000_Z/migration.sql", b"SELECT 3;");
        let set = discover(dir.path()).unwrap();
        assert_eq!(set.layout, Layout::Prisma);
        assert_eq!(
            names(&set),
            ["20240101000000_Z", "20240101000000_a", "20240102000000_b"]
        );
        let first_a = &set.migrations[1];
        assert_eq!(first_a.source, "SELECT 1;");
        assert_eq!(
            first_a.down_path.as_deref(),
            Some(dir.path().join("20240101000000_a/down.sql").as_path())
        );
        assert_eq!(set.migrations[2].down_path, None);
        assert_eq!(
            set.find("20240102000000_b").unwrap().path,
            dir.path().join("20240102000000_b/migration.sql")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_migration_file_linked_to_a_device_is_refused_not_read_forever() {
        let dir = prisma_dir();
        write(dir.path(), "20240101_ok/migration.sql", b"SELECT 1;");
        fs::create_dir_all(dir.path().join("20240102_zero")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("20240102_zero/migration.sql"))
            .unwrap();
        let err = discover(dir.path()).unwrap_err().to_string();
        assert!(err.contains("20240102_zero"), "{err}");
        let plain = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", plain.path().join("001_zero.sql")).unwrap();
        let err = discover(plain.path()).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn links_that_lead_out_of_the_migrations_directory_are_refused() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret", b"GITHUB_TOKEN=ghs_secret");
        // A migration.sql that is a link to a file elsewhere (the process environment, .git).
        let dir = prisma_dir();
        write(dir.path(), "20240101_ok/migration.sql", b"SELECT 1;");
        fs::create_dir_all(dir.path().join("20240102_env")).unwrap();
        symlink(
            "/proc/self/environ",
            dir.path().join("20240102_env/migration.sql"),
        )
        .unwrap();
        let err = discover(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("20240102_env/migration.sql is a symbolic link"),
            "{err}"
        );
        assert!(!err.contains("ghs_secret"), "{err}");
        // A linked folder that leads elsewhere, and a plain-SQL file linked out.
        let dir = prisma_dir();
        write(outside.path(), "20240103_away/migration.sql", b"SELECT 1;");
        symlink(
            outside.path().join("20240103_away"),
            dir.path().join("20240103_away"),
        )
        .unwrap();
        let err = discover(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("leads out of the migrations directory"),
            "{err}"
        );
        let plain = tempfile::tempdir().unwrap();
        symlink(
            outside.path().join("secret"),
            plain.path().join("001_secret.sql"),
        )
        .unwrap();
        let err = discover(plain.path()).unwrap_err().to_string();
        assert!(err.contains("001_secret.sql is a symbolic link"), "{err}");
        // Into .git below the migrations directory: refused too.
        let plain = tempfile::tempdir().unwrap();
        write(
            plain.path(),
            ".git/config",
            b"[http] extraheader = AUTHORIZATION: basic xyz",
        );
        symlink(
            plain.path().join(".git/config"),
            plain.path().join("001_config.sql"),
        )
        .unwrap();
        assert!(discover(plain.path()).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn links_inside_the_migrations_directory_are_read() {
        let dir = prisma_dir();
        write(dir.path(), "20240101_ok/migration.sql", b"SELECT 1;");
        fs::create_dir_all(dir.path().join("20240102_same")).unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("20240101_ok/migration.sql"),
            dir.path().join("20240102_same/migration.sql"),
        )
        .unwrap();
        let set = discover(dir.path()).unwrap();
        assert_eq!(names(&set), ["20240101_ok", "20240102_same"]);
    }

    #[test]
    fn folder_names_with_spaces_work() {
        let dir = prisma_dir();
        write(dir.path(), "20240101 add users/migration.sql", b"SELECT 1;");
        let set = discover(dir.path()).unwrap();
        assert_eq!(names(&set), ["20240101 add users"]);
    }

    #[test]
    fn folder_without_migration_sql_is_named() {
        let dir = prisma_dir();
        write(dir.path(), "20240101_ok/migration.sql", b"SELECT 1;");
        fs::create_dir_all(dir.path().join("20240102_empty")).unwrap();
        let err = discover(dir.path()).unwrap_err();
        assert!(
            err.message.contains("20240102_empty") && err.message.contains("has no migration.sql"),
            "{}",
            err.message
        );
        assert_eq!(err.exit_code, crate::error::exit::USAGE);
    }

    #[test]
    fn wrong_provider_names_file_and_provider() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), LOCK_FILE, b"provider = \"mysql\"\n");
        write(dir.path(), "1_init/migration.sql", b"SELECT 1;");
        let err = discover(dir.path()).unwrap_err();
        assert!(err.message.contains(LOCK_FILE), "{}", err.message);
        assert!(
            err.message.contains("provider = \"mysql\""),
            "{}",
            err.message
        );
    }

    #[test]
    fn missing_dir_suggests_dir_flag() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = discover(&missing).unwrap_err();
        assert!(err.message.contains("nope"), "{}", err.message);
        assert!(err.message.contains("--dir"), "{}", err.message);
        assert!(!err.message.contains('\n'));
    }

    #[test]
    fn invalid_utf8_names_the_file() {
        let dir = prisma_dir();
        write(
            dir.path(),
            "1_init/migration.sql",
            b"SELECT 1;\nSELECT '\xff';",
        );
        let err = discover(dir.path()).unwrap_err();
        assert!(
            err.message.contains("1_init/migration.sql") && err.message.contains("UTF-8"),
            "{}",
            err.message
        );
        assert!(err.message.contains("line 2"), "{}", err.message);
    }

    #[test]
    fn plain_sql_files_sorted_by_name_with_down_scripts() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "002_users.sql", b"SELECT 2;");
        write(dir.path(), "001_init.up.sql", b"SELECT 1;");
        write(dir.path(), "001_init.down.sql", b"SELECT 0;");
        write(dir.path(), "README.md", b"notes");
        let set = discover(dir.path()).unwrap();
        assert_eq!(set.layout, Layout::PlainSql);
        assert_eq!(names(&set), ["001_init.up", "002_users"]);
        assert_eq!(
            set.migrations[0].down_path.as_deref(),
            Some(dir.path().join("001_init.down.sql").as_path())
        );
    }

    #[test]
    fn empty_dir_has_no_migrations() {
        let dir = prisma_dir();
        let set = discover(dir.path()).unwrap();
        assert!(set.migrations.is_empty());
    }

    #[test]
    fn display_path_is_relative_below_working_dir() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            display_path(&cwd.join("migrations/1_a/migration.sql")),
            "migrations/1_a/migration.sql"
        );
        assert_eq!(
            display_path(Path::new("./migrations/x.sql")),
            "migrations/x.sql"
        );
        assert_eq!(
            display_path(Path::new("/elsewhere/x.sql")),
            "/elsewhere/x.sql"
        );
    }
}
