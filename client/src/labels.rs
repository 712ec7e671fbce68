//! Typed label sets for families: a struct whose fields are the label values.

/// A fixed set of label names with a way to read the values of one instance.
///
/// Implement it with [`label_set!`](crate::label_set); field types must implement `AsRef<str>`
/// (`&'static str`, `String`, `Cow<str>`, or your own enum).
pub trait LabelSet {
    /// Label names in declaration order.
    const NAMES: &'static [&'static str];
    /// The values, in the same order as [`NAMES`](LabelSet::NAMES).
    type Values<'a>: AsRef<[&'a str]>
    where
        Self: 'a;
    /// Borrows this instance's label values.
    fn label_values(&self) -> Self::Values<'_>;
}

/// Declares a struct and implements [`LabelSet`] for it, using the field names as label names.
///
/// ```
/// use kagari_client::{label_set, IntCounterVec, LabelSet};
///
/// label_set! {
///     /// One HTTP request's labels.
///     #[derive(Clone)]
///     pub struct Request { pub method: &'static str, pub code: String }
/// }
/// assert_eq!(Request::NAMES, &["method", "code"]);
///
/// let requests = IntCounterVec::new(&["method", "code"]).unwrap();
/// let typed = requests.typed::<Request>().unwrap();
/// typed.get(&Request { method: "GET", code: "200".to_string() }).inc();
/// assert_eq!(requests.with_label_values(&["GET", "200"]).unwrap().get(), 1);
/// ```
#[macro_export]
macro_rules! label_set {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident { $($fvis:vis $field:ident : $ty:ty),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name { $($fvis $field: $ty),* }

        impl $crate::LabelSet for $name {
            const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];
            type Values<'a> = [&'a str; $crate::__count_fields!($($field)*)] where Self: 'a;
            fn label_values(&self) -> Self::Values<'_> {
                [$(::core::convert::AsRef::<str>::as_ref(&self.$field)),*]
            }
        }
    };
}

/// Counts identifiers (implementation detail of [`label_set!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __count_fields {
    () => { 0usize };
    ($head:ident $($tail:ident)*) => { 1usize + $crate::__count_fields!($($tail)*) };
}
