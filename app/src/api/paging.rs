//! Keyset pagination, shared by the lists: the cursor a page link brings in, the next one out.

use crate::error::AppError;
use crate::model::{Cursor, PAGE_SIZE};

/// The `after` parameter of a list request; absent or empty means the first page.
pub fn parse_cursor(raw: Option<&str>) -> Result<Option<Cursor>, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Cursor::parse(s)
            .map(Some)
            .map_err(|message| AppError::invalid("after", message)),
    }
}

/// Lists fetch one row more than a page: if it came, there is a next page, which starts after
/// the last row kept.
pub fn next_page<T>(rows: &mut Vec<T>, cursor: impl Fn(&T) -> Cursor) -> Option<String> {
    if rows.len() as u64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| cursor(r).encode())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_and_the_row_after_it() {
        let cursor = |n: &i32| Cursor { id: *n, key: None };
        let mut full: Vec<i32> = (1..=PAGE_SIZE as i32 + 1).collect();
        assert_eq!(next_page(&mut full, cursor), Some(PAGE_SIZE.to_string()));
        assert_eq!(full.len() as u64, PAGE_SIZE);
        let mut last: Vec<i32> = (1..=PAGE_SIZE as i32).collect();
        assert_eq!(next_page(&mut last, cursor), None);
        assert_eq!(last.len() as u64, PAGE_SIZE);
    }

    #[test]
    fn a_broken_cursor_is_a_field_error() {
        assert_eq!(parse_cursor(None).ok(), Some(None));
        assert_eq!(parse_cursor(Some(" ")).ok(), Some(None));
        let err = parse_cursor(Some("nonsense")).unwrap_err();
        assert_eq!(err.field_message("after"), Some(Cursor::BROKEN));
    }
}
