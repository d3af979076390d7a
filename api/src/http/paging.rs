//! Paging parameters, checked at the door: a `limit` outside its range or a negative
//! cursor is refused `400 PAGING_INVALID`, never clamped into some other page.

use super::problem::{ApiError, ErrorCode};

/// The page size asked for, or `default`; refused outside `1..=max`.
pub fn limit(given: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match given {
        None => Ok(default),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(limit) => Err(ApiError::new(ErrorCode::PagingInvalid, format!("limit: 1 to {max}, not {limit}"))),
    }
}

/// A cursor (`after`, `before`: the id a page starts from); refused when negative.
pub fn cursor(name: &str, given: Option<i64>) -> Result<Option<i64>, ApiError> {
    match given {
        Some(id) if id < 0 => {
            Err(ApiError::new(ErrorCode::PagingInvalid, format!("{name}: an id from an earlier page, not {id}")))
        }
        _ => Ok(given),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_outside_its_range_is_refused_not_clamped() {
        assert_eq!(limit(None, 50, 200).ok(), Some(50));
        assert_eq!(limit(Some(200), 50, 200).ok(), Some(200));
        for wrong in [-5, 0, 201, i64::MAX] {
            assert_eq!(limit(Some(wrong), 50, 200).err().map(|error| error.code), Some(ErrorCode::PagingInvalid));
        }
    }

    #[test]
    fn a_negative_cursor_is_refused() {
        assert_eq!(cursor("after", Some(0)).ok(), Some(Some(0)));
        assert_eq!(cursor("after", None).ok(), Some(None));
        assert!(cursor("after", Some(-1)).is_err());
    }
}
