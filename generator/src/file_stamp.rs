//! What tells one version of a file or folder from another without reading it: its
//! modification time and inode, as the build record, the content cache and the spare
//! output compare them (issue 17).

use std::fs::Metadata;

/// The modification time in nanoseconds since the epoch, where the system gives one.
pub fn modified_ns(meta: &Metadata) -> Option<u128> {
    Some(
        meta.modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos(),
    )
}

/// The inode (0 where there are none).
pub fn inode(meta: &Metadata) -> u64 {
    #[cfg(unix)]
    return std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    return {
        let _ = meta;
        0
    };
}
