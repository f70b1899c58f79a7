//! An operation's result, serialised once. An MCP tool result carries the same JSON twice: as
//! the structured content, and escaped as the text of its text content. [`Escaping`] writes both
//! in one pass of serde's serialiser, so the result is never escaped in a second pass over it
//! (that pass, and the buffer regrowing behind it, were a sixth of a `list_tasks` call's time).
use std::{
    io,
    sync::atomic::{AtomicUsize, Ordering},
};

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

/// What a caller needs of a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The JSON (the HTTP API, rmcp's general path).
    Json,
    /// The JSON and, beside it, the JSON as the contents of a JSON string (MCP's text content).
    JsonAndText,
}

/// A result's compact JSON, and its escaped form when it was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub json: String,
    /// `json` escaped as the contents of a JSON string: what goes between the quotes of
    /// `"text": "…"` (`Encoding::JsonAndText` only).
    pub text: Option<String>,
}

/// The size of the last result, so that the next one's buffers are big enough from the start:
/// a page of tasks is ~7 KB, and growing a buffer to that from serde_json's 128 bytes copies
/// it all again on the way.
static LAST_SIZE: AtomicUsize = AtomicUsize::new(1024);

pub fn encode<T: Serialize + ?Sized>(value: &T, encoding: Encoding) -> serde_json::Result<Encoded> {
    let capacity = LAST_SIZE.load(Ordering::Relaxed).clamp(256, 64 * 1024);
    let mut json = Vec::with_capacity(capacity);
    let text = match encoding {
        Encoding::Json => {
            value.serialize(&mut serde_json::Serializer::new(&mut json))?;
            None
        }
        Encoding::JsonAndText => {
            let mut text = Vec::with_capacity(capacity + capacity / 4);
            value.serialize(&mut serde_json::Serializer::with_formatter(&mut json, Escaping { text: &mut text }))?;
            Some(text)
        }
    };
    LAST_SIZE.store(json.len(), Ordering::Relaxed);
    // serde_json writes only valid UTF-8 (its input is `str`s and numbers; escaping adds ASCII).
    let utf8 = |bytes: Vec<u8>| String::from_utf8(bytes).map_err(|e| serde::ser::Error::custom(e.to_string()));
    Ok(Encoded { json: utf8(json)?, text: text.map(utf8).transpose()? })
}

/// serde_json's compact output on the writer, and the same output escaped as string contents
/// in `text`: `"` and `\` gain a backslash, so a string's quotes become `\"` and its escapes
/// `\\n`, `\\\"`. Every other byte serde_json writes (structure, digits, string fragments, which
/// hold no quote, backslash or control character) is the same in both.
struct Escaping<'a> {
    text: &'a mut Vec<u8>,
}

/// Writes `bytes` to the writer as they are, and to `text` as string contents.
fn both<W: ?Sized + io::Write>(writer: &mut W, text: &mut Vec<u8>, bytes: &[u8]) -> io::Result<()> {
    escape_into(text, bytes);
    writer.write_all(bytes)
}

/// `bytes` (JSON text) as the contents of a JSON string, exactly as serde_json would escape it.
fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => &[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// A formatter method that writes the same bytes as `CompactFormatter` to both outputs.
macro_rules! same_in_both {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<W: ?Sized + io::Write>(&mut self, writer: &mut W $(, $arg: $ty)*) -> io::Result<()> {
            let mut plain = Vec::new();
            CompactFormatter.$method(&mut plain $(, $arg)*)?;
            both(writer, self.text, &plain)
        }
    )*};
}

/// Small fixed tokens, written to both without a scratch buffer.
macro_rules! token {
    ($($method:ident => $token:literal;)*) => {$(
        fn $method<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
            self.text.extend_from_slice($token);
            writer.write_all($token)
        }
    )*};
}

impl Escaping<'_> {
    fn comma<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.text.push(b',');
        writer.write_all(b",")
    }
}

impl Formatter for Escaping<'_> {
    token! {
        write_null => b"null";
        begin_array => b"[";
        end_array => b"]";
        begin_object => b"{";
        end_object => b"}";
        begin_object_value => b":";
    }

    same_in_both! {
        write_bool(value: bool);
        write_i8(value: i8);
        write_i16(value: i16);
        write_i32(value: i32);
        write_i64(value: i64);
        write_i128(value: i128);
        write_u8(value: u8);
        write_u16(value: u16);
        write_u32(value: u32);
        write_u64(value: u64);
        write_u128(value: u128);
        write_f32(value: f32);
        write_f64(value: f64);
        write_number_str(value: &str);
    }

    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { self.comma(writer) }
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { self.comma(writer) }
    }

    // A string's quotes, the commonest token: written directly rather than through `both`.
    fn begin_string<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.text.extend_from_slice(b"\\\"");
        writer.write_all(b"\"")
    }

    fn end_string<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.begin_string(writer)
    }

    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        // serde_json hands escapes over separately: a fragment needs none, here or in `text`.
        self.text.extend_from_slice(fragment.as_bytes());
        writer.write_all(fragment.as_bytes())
    }

    fn write_char_escape<W: ?Sized + io::Write>(&mut self, writer: &mut W, char_escape: CharEscape) -> io::Result<()> {
        let mut plain = Vec::with_capacity(6);
        CompactFormatter.write_char_escape(&mut plain, char_escape)?;
        both(writer, self.text, &plain)
    }

    fn write_raw_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        both(writer, self.text, fragment.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    /// What the fast path used to write: serde_json's output, then that output as a string.
    fn expected(value: &impl Serialize) -> (String, String) {
        let json = serde_json::to_string(value).unwrap();
        let quoted = serde_json::to_string(&json).unwrap();
        (json, quoted[1..quoted.len() - 1].to_owned())
    }

    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let text = "\\PC{0,10}|[\"\\\\/\n\r\t\u{0}\u{1}\u{8}\u{c}\u{1f}\u{7f}é€😀 ]{0,6}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            text.prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map(text, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn both_forms_are_what_serde_json_writes(value in arbitrary_json()) {
            let encoded = encode(&value, Encoding::JsonAndText).unwrap();
            let (json, text) = expected(&value);
            prop_assert_eq!(&encoded.json, &json);
            prop_assert_eq!(encoded.text.as_deref(), Some(text.as_str()));
            prop_assert_eq!(encode(&value, Encoding::Json).unwrap(), Encoded { json, text: None });
        }
    }

    #[test]
    fn structs_raw_values_and_odd_keys_too() {
        #[derive(Serialize)]
        struct Row<'a> {
            id: uuid::Uuid,
            at: chrono::DateTime<chrono::Utc>,
            day: chrono::NaiveDate,
            raw: &'a serde_json::value::RawValue,
            keys: std::collections::BTreeMap<i32, &'a str>,
            bytes: &'a [u8],
        }
        let raw = serde_json::value::RawValue::from_string("{\"a\":\"q\\\"\\n\", \"b\":\t[1]}".into()).unwrap();
        let row = Row {
            id: uuid::Uuid::from_u128(7),
            at: chrono::DateTime::from_timestamp(1_800_000_000, 123_000).unwrap(),
            day: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            raw: &raw,
            keys: [(-1, "a\"b"), (2, "\\")].into_iter().collect(),
            bytes: b"\x00\xff",
        };
        let encoded = encode(&row, Encoding::JsonAndText).unwrap();
        let (json, text) = expected(&row);
        assert_eq!((encoded.json, encoded.text.unwrap()), (json, text));
        let value = json!({"text": "line\nbreak \"quoted\" back\\slash \u{1}"});
        assert_eq!(encode(&value, Encoding::JsonAndText).unwrap().text.unwrap(), expected(&value).1);
    }
}
