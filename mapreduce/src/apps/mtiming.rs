//! `mtiming`: tests that map tasks run in parallel. Map records when it ran (`times-<pid>`) and
//! how many map tasks were running at once (`parallel-<pid>`, see [`super::liveness`]); Reduce
//! joins the sorted values.

use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{liveness::nparallel, App};

pub struct MapTiming;

impl App for MapTiming {
    fn map(
        &self,
        _filename: &str,
        _contents: &str,
        emit: &mut dyn FnMut(&str, &str),
    ) -> io::Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let pid = std::process::id();
        let parallel = nparallel("map")?;
        emit(&format!("times-{pid}"), &format!("{now:.1}"));
        emit(&format!("parallel-{pid}"), &parallel.to_string());
        Ok(())
    }

    fn reduce(&self, _key: &str, values: &[&str]) -> io::Result<String> {
        let mut values = values.to_vec();
        values.sort_unstable();
        Ok(values.join(" "))
    }
}
