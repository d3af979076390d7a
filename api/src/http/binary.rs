//! Schemas of the bodies that are not JSON: PNG images the server draws and CSV files it
//! reads. Each is `type: string, format: binary` with its media type, so a generated client
//! hands over or returns the file's bytes (as `Vec<u8>` they read as an array of integers,
//! and generators dropped those responses).

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;

fn binary(media_type: &str, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
        .content_media_type(media_type)
        .description(Some(description))
        .into()
}

/// A PNG image: the bytes of the file.
pub struct Png;

impl utoipa::PartialSchema for Png {
    fn schema() -> RefOr<Schema> {
        binary("image/png", "A PNG image, the bytes of the file")
    }
}

impl utoipa::ToSchema for Png {}

/// A CSV file in UTF-8: the bytes of the file.
pub struct CsvFile;

impl utoipa::PartialSchema for CsvFile {
    fn schema() -> RefOr<Schema> {
        binary("text/csv", "A CSV file in UTF-8 with a header line, the bytes of the file")
    }
}

impl utoipa::ToSchema for CsvFile {}
