//! JSON Lines records: find the text, id and order fields of one line without building a
//! tree of the whole record.
//!
//! [`FieldPath`] is a dotted path (`meta.id`); [`find_fields`] parses one line, checks that it is
//! a JSON object, and returns where each wanted field's value is (a borrowed [`RawValue`], so its
//! byte range in the line is known and the line can later be rewritten around it, leaving every
//! other byte as it was). [`Fields`] turns those values into the record's text, id and order key.
//!
//! ```
//! use syndup::input::jsonl::{FieldPath, Fields};
//! let line = r#"{"id":7,"meta":{"date":"2024-05-01"},"text":"One.\nTwo."}"#;
//! let f = Fields::parse(line, &FieldPath::new("text"), &FieldPath::new("id"),
//!                       Some(&FieldPath::new("meta.date")))?;
//! assert_eq!(f.text, "One.\nTwo.");
//! assert_eq!(f.id.as_deref(), Some("7"));
//! assert_eq!(&line[f.text_range.clone()], r#""One.\nTwo.""#);
//! # Ok::<(), String>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
pub use serde_json::value::RawValue;

/// A dotted path to a field: `text`, `body.text`. Every component is an object key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldPath {
    parts: Vec<String>,
    dotted: String,
}

impl FieldPath {
    /// Parses a dotted path (an empty component, as in `a..b`, matches the empty key).
    pub fn new(dotted: &str) -> FieldPath {
        FieldPath {
            parts: dotted.split('.').map(str::to_string).collect(),
            dotted: dotted.to_string(),
        }
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.dotted
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dotted)
    }
}

/// An object key, borrowed from the line when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Captures the values of the wanted keys of one object and skips (but still checks) the rest.
struct Wanted<'k> {
    keys: &'k [&'k str],
}

impl<'de> DeserializeSeed<'de> for Wanted<'_> {
    type Value = Vec<Option<&'de RawValue>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Wanted<'_> {
    type Value = Vec<Option<&'de RawValue>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = vec![None; self.keys.len()];
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if self.keys.iter().any(|k| *k == key.0) {
                let raw: &'de RawValue = map.next_value()?;
                for (slot, k) in out.iter_mut().zip(self.keys) {
                    if *k == key.0 {
                        *slot = Some(raw);
                    }
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

fn object_fields<'a>(
    text: &'a str,
    keys: &[&str],
) -> Result<Vec<Option<&'a RawValue>>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let out = Wanted { keys }.deserialize(&mut de)?;
    de.end()?;
    Ok(out)
}

/// Parses `line` (one JSON object) and returns the value at each path, `None` where a path is
/// missing (or goes through something that is not an object). The whole line is checked, so a
/// malformed line is an error even when the wanted fields come before the fault.
pub fn find_fields<'a>(
    line: &'a str,
    paths: &[&FieldPath],
) -> Result<Vec<Option<&'a RawValue>>, serde_json::Error> {
    let firsts: Vec<&str> = paths
        .iter()
        .map(|p| p.parts.first().map_or("", String::as_str))
        .collect();
    let mut found = object_fields(line, &firsts)?;
    for (slot, path) in found.iter_mut().zip(paths) {
        for part in path.parts.iter().skip(1) {
            let Some(raw) = *slot else { break };
            *slot = match raw.get().as_bytes().first() {
                Some(b'{') => object_fields(raw.get(), &[part.as_str()])?.pop().flatten(),
                _ => None,
            };
        }
    }
    Ok(found)
}

/// The JSON type of a raw value, for messages: `string`, `number`, `object`, …
pub fn kind_of(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// A value as a record id or order text: strings decoded, anything else as written. A string
/// that does not decode (a lone surrogate escape such as `"\ud800"`, which no Rust string can
/// hold) is kept as written, without its quotes, rather than lost (the record was named by
/// its line number instead of its id).
fn as_text(raw: &RawValue) -> Option<String> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'n') => None,
        Some(b'"') => serde_json::from_str::<String>(text).ok().or_else(|| {
            Some(
                text.strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .unwrap_or(text)
                    .to_string(),
            )
        }),
        _ => Some(text.to_string()),
    }
}

/// Where a record's original copy ranks: the `--order-field` value. Numbers sort before strings,
/// numbers numerically (integers exactly, whatever their size: nanosecond timestamps and 64-bit
/// ids differ beyond a float's 53 bits), strings by their bytes (ISO 8601 dates sort in time
/// order); a record without the value ranks after every record with one.
///
/// ```
/// use std::cmp::Ordering;
/// use syndup::input::jsonl::OrderKey;
/// let a = OrderKey::Integer(1_714_550_400_000_000_000);
/// let b = OrderKey::Integer(1_714_550_400_000_000_100);
/// assert_eq!(a.cmp_total(&b), Ordering::Less);
/// assert_eq!(OrderKey::Number(2.5).cmp_total(&OrderKey::Integer(3)), Ordering::Less);
/// assert_eq!(OrderKey::Number(-0.0).cmp_total(&OrderKey::Integer(0)), Ordering::Equal);
/// assert_eq!(OrderKey::Integer(9).cmp_total(&OrderKey::Text("1".into())), Ordering::Less);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum OrderKey {
    /// A JSON number with a fraction or an exponent (or an integer beyond 39 digits).
    Number(f64),
    /// A JSON integer, exactly.
    Integer(i128),
    /// A JSON string (or any other value, as written).
    Text(String),
}

impl PartialOrd for OrderKey {
    fn partial_cmp(&self, other: &OrderKey) -> Option<std::cmp::Ordering> {
        Some(self.cmp_total(other))
    }
}

impl OrderKey {
    /// Total order: numbers (integers and others compared exactly by value, `-0` equal to
    /// `0`), then strings by their bytes.
    pub fn cmp_total(&self, other: &OrderKey) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (OrderKey::Integer(a), OrderKey::Integer(b)) => a.cmp(b),
            (OrderKey::Number(a), OrderKey::Number(b)) => {
                a.partial_cmp(b).unwrap_or_else(|| a.total_cmp(b))
            }
            (OrderKey::Integer(a), OrderKey::Number(b)) => int_cmp_float(*a, *b),
            (OrderKey::Number(a), OrderKey::Integer(b)) => int_cmp_float(*b, *a).reverse(),
            (OrderKey::Text(a), OrderKey::Text(b)) => a.cmp(b),
            (OrderKey::Text(_), _) => Ordering::Greater,
            (_, OrderKey::Text(_)) => Ordering::Less,
        }
    }

    fn from_raw(raw: &RawValue) -> Option<OrderKey> {
        let text = raw.get();
        let first = *text.as_bytes().first()?;
        if first == b'-' || first.is_ascii_digit() {
            if !text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) {
                if let Ok(i) = text.parse::<i128>() {
                    return Some(OrderKey::Integer(i));
                }
            }
            text.parse().ok().map(OrderKey::Number)
        } else {
            as_text(raw).map(OrderKey::Text)
        }
    }
}

/// `a` against `b`, exactly (no rounding of `a` to a float).
fn int_cmp_float(a: i128, b: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    // i128 spans ±2^127; floats beyond it (and infinities) are beyond every integer.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0; // 2^127
    if b.is_nan() {
        return Ordering::Less;
    }
    if b >= LIMIT {
        return Ordering::Less;
    }
    if b < -LIMIT {
        return Ordering::Greater;
    }
    let floor = b.floor();
    // Exact: |floor| < 2^127 and it is an integer.
    match a.cmp(&(floor as i128)) {
        Ordering::Equal if b > floor => Ordering::Less,
        other => other,
    }
}

/// The fields syndup uses from one record.
#[derive(Clone, Debug, PartialEq)]
pub struct Fields {
    /// The decoded text field.
    pub text: String,
    /// Byte range of the text field's value (with its quotes) in the line.
    pub text_range: Range<usize>,
    /// The id field (strings decoded, other values as written), if present and not null.
    pub id: Option<String>,
    /// The order field, if asked for, present and not null.
    pub order: Option<OrderKey>,
}

impl Fields {
    /// Parses one line. The error says what is wrong, for a `skipped` entry: malformed JSON (with
    /// the column), not an object, no text field, a text field that is not a string.
    pub fn parse(
        line: &str,
        text: &FieldPath,
        id: &FieldPath,
        order: Option<&FieldPath>,
    ) -> Result<Fields, String> {
        Fields::parse_after(line, 0, text, id, order)
    }

    /// [`Fields::parse`] for a record that starts `before` bytes into its line (after a byte
    /// order mark): the columns in errors are the line's.
    pub(crate) fn parse_after(
        line: &str,
        before: usize,
        text: &FieldPath,
        id: &FieldPath,
        order: Option<&FieldPath>,
    ) -> Result<Fields, String> {
        let mut paths = vec![text, id];
        paths.extend(order);
        // serde_json's messages end in "at line 1 column N": the line is the record's, and
        // the column is said apart.
        let message = |e: &serde_json::Error| {
            let msg = e.to_string();
            msg.rsplit_once(" at line ")
                .map_or(msg.clone(), |(m, _)| m.to_string())
        };
        let found = find_fields(line, &paths).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => {
                format!("not a JSON object record: {}", message(&e))
            }
            _ => format!(
                "malformed JSON at column {}: {}",
                before + e.column(),
                message(&e)
            ),
        })?;
        let raw = found[0].ok_or_else(|| format!("no text field `{text}`"))?;
        if !raw.get().starts_with('"') {
            return Err(format!(
                "text field `{text}` is {}, not a string",
                kind_of(raw)
            ));
        }
        let start = raw.get().as_ptr() as usize - line.as_ptr() as usize;
        // A string that does not decode (a lone surrogate escape, `"\ud800"`): the column is
        // the line's, not the string's.
        let decoded: String = serde_json::from_str(raw.get()).map_err(|e| {
            format!(
                "text field `{text}` does not decode at column {}: {}",
                before + start + e.column(),
                message(&e)
            )
        })?;
        Ok(Fields {
            text: decoded,
            text_range: start..start + raw.get().len(),
            id: found[1].and_then(as_text),
            order: found.get(2).copied().flatten().and_then(OrderKey::from_raw),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Fields, String> {
        Fields::parse(
            line,
            &FieldPath::new("body.text"),
            &FieldPath::new("id"),
            Some(&FieldPath::new("date")),
        )
    }

    #[test]
    fn fields_table() {
        let f = parse(r#"{"id":"a\"b","body":{"x":[1,{"text":1}],"text":"P\u00e9\n2"},"date":3}"#)
            .unwrap();
        assert_eq!(f.text, "Pé\n2");
        assert_eq!(f.id.as_deref(), Some("a\"b"));
        assert_eq!(f.order, Some(OrderKey::Integer(3)));
        let f =
            parse(r#" { "body" : { "text" : "x" } , "date": "2024-01-02", "id": null } "#).unwrap();
        assert_eq!(f.id, None);
        assert_eq!(f.order, Some(OrderKey::Text("2024-01-02".into())));
        let errors: &[(&str, &str)] = &[
            (r#"{"body":{"text":"x"}"#, "malformed JSON"),
            (r#"{"body":{"text":"x"}} trailing"#, "malformed JSON"),
            (r#"[1,2]"#, "not a JSON object"),
            (r#"{"id":1}"#, "no text field `body.text`"),
            (r#"{"body":"text"}"#, "no text field"),
            (r#"{"body":{"text":5}}"#, "is a number, not a string"),
            (r#"{"body":{"text":null}}"#, "is null, not a string"),
            (r#"{"body":{"text":["a"]}}"#, "is an array"),
        ];
        for (line, want) in errors {
            let e = parse(line).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }

    #[test]
    fn text_range_is_the_raw_value() {
        let line = r#"{"a":1, "body": {"text":  "q\"x" }, "z":2}"#;
        let f = parse(line).unwrap();
        assert_eq!(&line[f.text_range], r#""q\"x""#);
    }

    #[test]
    fn order_keys_sort() {
        let mut keys = [
            OrderKey::Text("2024-02".into()),
            OrderKey::Number(5.0),
            OrderKey::Text("2023-12".into()),
            OrderKey::Number(-1.0),
        ];
        keys.sort_by(OrderKey::cmp_total);
        assert_eq!(keys[0], OrderKey::Number(-1.0));
        assert_eq!(keys[3], OrderKey::Text("2024-02".into()));
    }

    /// A text that does not decode (a lone surrogate) is refused with the column in the line
    /// where decoding stopped, not one counted from the start of the string.
    #[test]
    fn undecodable_texts_name_the_column_of_the_line() {
        let line = r#"{"id":"j","body":{"text":"lone \ud800 here"}}"#;
        let e = parse(line).unwrap_err();
        let column = line.find(r"\ud800").unwrap() + r"\ud800".len() + 1;
        assert!(
            e.starts_with(&format!(
                "text field `body.text` does not decode at column {column}: "
            )),
            "{e}"
        );
        assert!(!e.contains("line 1"), "{e}");
    }

    /// An id string that does not decode (a lone surrogate) is the id as written, not lost.
    #[test]
    fn undecodable_ids_are_kept_as_written() {
        let f = parse(r#"{"id":"a\ud800b","body":{"text":"x"}}"#).unwrap();
        assert_eq!(f.id.as_deref(), Some(r"a\ud800b"));
        let f = parse(r#"{"id":"a\u00e9","body":{"text":"x"}}"#).unwrap();
        assert_eq!(f.id.as_deref(), Some("a\u{e9}"));
    }

    /// Integers are ranked exactly: nanosecond timestamps 100 apart were the same float, a
    /// tie that input order broke (the later copy kept); `-0` ties with `0`; mixed integers
    /// and fractions go by value.
    #[test]
    fn integer_order_keys_are_exact() {
        let key = |raw: &str| {
            let line = format!(r#"{{"body":{{"text":"x"}},"date":{raw}}}"#);
            parse(&line).unwrap().order.unwrap()
        };
        use std::cmp::Ordering::*;
        let cases = [
            ("1714550400000000000", "1714550400000000100", Less),
            ("18446744073709551615", "18446744073709551614", Greater),
            ("-0", "0", Equal),
            ("-0.0", "0", Equal),
            ("2.5", "3", Less),
            ("3", "2.5", Greater),
            ("3", "3.0", Equal),
            ("-3", "-2.5", Less),
            ("1e40", "170141183460469231731687303715884105727", Greater),
            ("-1e40", "-170141183460469231731687303715884105728", Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(key(a).cmp_total(&key(b)), want, "{a} vs {b}");
        }
    }
}
