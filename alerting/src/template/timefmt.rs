//! Go `time` printing for the template functions and the notifier's timestamps, under the
//! names they call it by; the one implementation is in `kagari-model` (`gotime`).

pub(crate) use kagari_model::go_duration_string as duration_string;
pub(crate) use kagari_model::go_time_format as format;
pub(crate) use kagari_model::go_time_string as time_string;
