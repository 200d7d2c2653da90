//! Writing the dev channels' files so that a reader never sees half of one.

use std::path::Path;

use crate::error::SendError;

/// Writes `bytes` to `path` inside `dir` (created if missing) through a temporary file and a
/// rename. Errors: [`SendError::Transient`] with the I/O error, since a full or read-only disk is
/// for an operator to fix and the message can be written later.
pub(crate) async fn write_file_atomically(
    dir: &Path,
    path: &Path,
    bytes: &[u8],
) -> Result<(), SendError> {
    let io = |what: &str, e: std::io::Error| SendError::transient(format!("{what}: {e}"));
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| io(&format!("create {}", dir.display()), e))?;
    let tmp = path.with_extension("partial");
    tokio::fs::write(&tmp, bytes)
        .await
        .map_err(|e| io(&format!("write {}", tmp.display()), e))?;
    tokio::fs::rename(&tmp, path)
        .await
        .map_err(|e| io(&format!("rename to {}", path.display()), e))
}
