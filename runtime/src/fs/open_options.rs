//! [`OpenOptions`]: how to open a [`File`].
use super::{asyncify, File};
use std::io;
use std::path::Path;

/// Options for opening a [`File`]: read, write, append, truncate, create. The async
/// counterpart of [`std::fs::OpenOptions`] (convert one with `From` for platform-specific
/// options such as the Unix mode).
///
/// # Examples
///
/// ```
/// use filch::fs::OpenOptions;
/// use futures_util::io::AsyncWriteExt;
///
/// let rt = filch::runtime::Runtime::new().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-oo-{}", std::process::id()));
/// rt.block_on(async {
///     let mut log = OpenOptions::new().create(true).append(true).open(&path).await?;
///     log.write_all(b"one\n").await?;
///     log.close().await?;
///     filch::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// Options with every flag off; set at least one of `read`, `write` or `append`.
    pub fn new() -> Self {
        Self(std::fs::OpenOptions::new())
    }

    /// Opens for reading.
    pub fn read(&mut self, read: bool) -> &mut Self {
        self.0.read(read);
        self
    }

    /// Opens for writing.
    pub fn write(&mut self, write: bool) -> &mut Self {
        self.0.write(write);
        self
    }

    /// Opens for appending: every write goes to the end of the file.
    pub fn append(&mut self, append: bool) -> &mut Self {
        self.0.append(append);
        self
    }

    /// Truncates the file to length 0 when opening it (needs `write`).
    pub fn truncate(&mut self, truncate: bool) -> &mut Self {
        self.0.truncate(truncate);
        self
    }

    /// Creates the file if it does not exist (needs `write` or `append`).
    pub fn create(&mut self, create: bool) -> &mut Self {
        self.0.create(create);
        self
    }

    /// Creates the file, failing if it exists (needs `write` or `append`).
    pub fn create_new(&mut self, create_new: bool) -> &mut Self {
        self.0.create_new(create_new);
        self
    }

    /// Opens `path` with these options, on the blocking pool.
    ///
    /// # Errors
    ///
    /// Returns the OS error, for example [`io::ErrorKind::NotFound`] (no `create` and no
    /// file), [`io::ErrorKind::AlreadyExists`] (`create_new`), or
    /// [`io::ErrorKind::InvalidInput`] for an inconsistent set of flags.
    ///
    /// # Panics
    ///
    /// Panics outside a filch runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = filch::runtime::Runtime::new().unwrap();
    /// let path = std::env::temp_dir().join(format!("filch-doc-oo-new-{}", std::process::id()));
    /// rt.block_on(async {
    ///     let _file = filch::fs::OpenOptions::new().write(true).create_new(true).open(&path).await?;
    ///     let again = filch::fs::OpenOptions::new().write(true).create_new(true).open(&path).await;
    ///     assert_eq!(again.unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
    ///     filch::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let options = self.0.clone();
        let std = asyncify(move || options.open(path)).await?;
        Ok(File::from_std(std))
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> Self {
        Self(options)
    }
}
