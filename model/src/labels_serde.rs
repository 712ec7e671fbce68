//! `serde` support for [`Labels`]: a JSON object `{"name": "value", …}`, the shape of the
//! Prometheus HTTP API (`"metric"` in query results, `/api/v1/series`).

use std::fmt;

use serde::de::{Error as _, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Labels, LabelsBuilder};

/// Serialises as a map in label-name order.
impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for l in self {
            map.serialize_entry(&*l.name, &*l.value)?;
        }
        map.end()
    }
}

/// Deserialises from a map. Names may be any non-empty UTF-8 (Prometheus 3 accepts UTF-8 label
/// names); a repeated name is an error; empty values are dropped, since an empty label does not
/// exist.
impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(LabelsVisitor)
    }
}

struct LabelsVisitor;

impl<'de> Visitor<'de> for LabelsVisitor {
    type Value = Labels;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of label names to label values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
        let mut b = LabelsBuilder::new();
        let mut seen = std::collections::HashSet::new();
        while let Some((name, value)) = map.next_entry::<String, String>()? {
            if name.is_empty() {
                return Err(A::Error::custom("empty label name"));
            }
            if !seen.insert(name.clone()) {
                return Err(A::Error::custom(format!("duplicate label name {name:?}")));
            }
            b.set(&name, &value);
        }
        Ok(b.build())
    }
}
