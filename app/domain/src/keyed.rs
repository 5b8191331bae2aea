//! Enums stored in the database and shown to people by a key and a label, written once:
//! [`keyed!`] generates `ALL`, `key`, `label`, `from_key` and `stored` for each of them.

/// A stored key that names no variant: corrupt data, reported as an error, never silently read
/// as some default.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the stored value {value:?} is not a known {what}")]
pub struct Corrupt {
    pub what: &'static str,
    pub value: String,
}

/// Declares an enum whose variants each have a stored key and a label:
///
/// ```
/// domain::keyed! {
///     /// A light.
///     #[derive(serde::Serialize)]
///     pub enum Light { Red = ("red", "Stop"), Green = ("green", "Go") }
/// }
/// assert_eq!(Light::from_key("red"), Some(Light::Red));
/// assert_eq!(Light::Green.label(), "Go");
/// assert!(Light::stored("blue").is_err());
/// ```
#[macro_export]
macro_rules! keyed {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = ($key:literal, $label:literal)),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; [$($key),+].len()] = [$($name::$variant),+];

            /// The value stored in the database and sent in forms.
            pub const fn key(self) -> &'static str {
                match self {
                    $($name::$variant => $key),+
                }
            }

            /// What a person reads.
            pub const fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }

            /// The variant with this key (input from a form or a query string).
            pub fn from_key(key: &str) -> Option<$name> {
                $name::ALL.into_iter().find(|v| v.key() == key)
            }

            /// A value read back from the database: an unknown key is corrupt data.
            pub fn stored(key: &str) -> Result<$name, $crate::keyed::Corrupt> {
                $name::from_key(key).ok_or_else(|| $crate::keyed::Corrupt {
                    what: stringify!($name),
                    value: key.to_owned(),
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    keyed! {
        enum Colour { Red = ("red", "Red"), DarkBlue = ("dark_blue", "Dark blue") }
    }

    #[test]
    fn keys_round_trip_and_an_unknown_stored_key_is_corrupt() {
        for c in Colour::ALL {
            assert_eq!(Colour::from_key(c.key()), Some(c));
            assert_eq!(Colour::stored(c.key()), Ok(c));
        }
        assert_eq!(Colour::DarkBlue.label(), "Dark blue");
        assert_eq!(Colour::from_key("green"), None);
        assert_eq!(
            Colour::stored("green"),
            Err(super::Corrupt {
                what: "Colour",
                value: "green".into()
            })
        );
    }
}
