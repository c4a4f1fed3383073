//! DUO-24 unusually high volume: a user with more than N events in a UTC day
//! is usually a service account (or a script looping on a password).

use super::super::draft::{Draft, Severity, bucket};
use super::super::index::Dataset;
use super::super::thresholds::{DAY_MS, Thresholds};

pub fn run(ds: &Dataset<'_>, t: &Thresholds, out: &mut Vec<Draft>) {
    for user in &ds.users {
        if user.events.len() <= t.high_volume_per_day {
            continue;
        }
        let mut start = 0;
        while start < user.events.len() {
            let day = bucket(ds.events[user.events[start] as usize].ts, DAY_MS);
            let len =
                user.events[start..].partition_point(|&i| ds.events[i as usize].ts < day + DAY_MS);
            if len > t.high_volume_per_day {
                out.push(
                    Draft::over_events(ds, "DUO-24", format!("{}|{day}", user.key), user.events[start..start + len].to_vec())
                        .title("Unusually high authentication volume")
                        .severity(Severity::Low)
                        .subject(user.name)
                        .detail(format!(
                            "{} produced {len} authentication events in one UTC day (threshold {}). Tag it as a \
                             service account with its own policy, or find the script retrying it.",
                            user.name, t.high_volume_per_day
                        )),
                );
            }
            start += len;
        }
    }
}
