//! The lifecycle policy: how long each major series is maintained.
//!
//! - **stable**: maintained 6 months after its first release, or until 3 months after the next
//!   major's first release, whichever is later;
//! - **LTS**: 18 months, or until 6 months after the next LTS major's first release, whichever
//!   is later;
//!
//! maintenance ends on the last day of the month. A basic-support period may follow. Dates the
//! matrix records as published override the computed ones.

use std::fmt;

use jiff::ToSpan;
use jiff::civil::Date;

use crate::matrix::{Channel, Matrix, Release, Series};
use crate::model::{AirflowVersion, RuntimeVersion, SeriesKey};

/// Where a lifecycle date comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateSource {
    /// Recorded in the matrix from the published lifecycle table.
    Published,
    /// Computed from the policy, with the next (LTS) major known.
    Computed,
    /// Computed from the policy while no next (LTS) major exists yet: may move later.
    Provisional,
}

/// Support status on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Not released yet on that day.
    Unreleased,
    /// In maintenance: bug and security fixes.
    Maintained,
    /// After maintenance, in basic support.
    BasicSupport,
    /// No longer supported.
    EndOfLife,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Unreleased => "unreleased",
            Status::Maintained => "maintained",
            Status::BasicSupport => "basic support",
            Status::EndOfLife => "end of life",
        })
    }
}

/// The lifecycle of one major series.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeriesLifecycle {
    /// Which series.
    #[serde(serialize_with = "display")]
    pub series: SeriesKey,
    /// Stable or LTS.
    pub channel: Channel,
    /// The first release of the series.
    pub first_release: RuntimeVersion,
    /// Airflow version of the newest release.
    pub airflow: AirflowVersion,
    /// First release date.
    pub release_date: Date,
    /// Last day of maintenance.
    pub end_of_maintenance: Date,
    /// Where `end_of_maintenance` comes from.
    pub end_of_maintenance_source: DateSource,
    /// Last day of basic support, when the series has one.
    pub end_of_basic_support: Option<Date>,
}

fn display<S: serde::Serializer, T: fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

impl SeriesLifecycle {
    /// Status of the series on `day`.
    pub fn status_on(&self, day: Date) -> Status {
        if day < self.release_date {
            Status::Unreleased
        } else if day <= self.end_of_maintenance {
            Status::Maintained
        } else if self.end_of_basic_support.is_some_and(|b| day <= b) {
            Status::BasicSupport
        } else {
            Status::EndOfLife
        }
    }

    /// Status of one release of the series on `day` (unreleased before its own date).
    pub fn release_status_on(&self, release: &Release, day: Date) -> Status {
        if day < release.date {
            Status::Unreleased
        } else {
            self.status_on(day).max_released()
        }
    }
}

impl Status {
    fn max_released(self) -> Status {
        match self {
            Status::Unreleased => Status::Maintained,
            s => s,
        }
    }
}

/// The lifecycle of every series that has releases, in series order.
pub fn lifecycle(matrix: &Matrix) -> Vec<SeriesLifecycle> {
    let firsts: Vec<(&Series, &Release)> = matrix
        .series()
        .filter_map(|s| {
            matrix
                .releases_in(s.key)
                .filter(|r| !r.version.is_prerelease())
                .min_by_key(|r| r.date)
                .map(|r| (s, r))
        })
        .collect();
    firsts
        .iter()
        .enumerate()
        .map(|(i, (series, first))| {
            let later = &firsts[i + 1..];
            let (months, next, after) = match series.channel {
                Channel::Stable => (6, later.first(), 3),
                Channel::Lts => (18, later.iter().find(|(s, _)| s.channel == Channel::Lts), 6),
            };
            let own = add_months(first.date, months);
            let computed = match next {
                Some((_, n)) => own.max(add_months(n.date, after)),
                None => own,
            }
            .last_of_month();
            let (end_of_maintenance, source) = match (series.end_of_maintenance, next) {
                (Some(published), _) => (published, DateSource::Published),
                (None, Some(_)) => (computed, DateSource::Computed),
                (None, None) => (computed, DateSource::Provisional),
            };
            let newest = matrix
                .releases_in(series.key)
                .next_back()
                .expect("a series with a first release has a newest");
            SeriesLifecycle {
                series: series.key,
                channel: series.channel,
                first_release: first.version.clone(),
                airflow: newest.airflow.clone(),
                release_date: first.date,
                end_of_maintenance,
                end_of_maintenance_source: source,
                end_of_basic_support: series.end_of_basic_support,
            }
        })
        .collect()
}

/// The lifecycle of the series `version` belongs to.
pub fn of_release(matrix: &Matrix, version: &RuntimeVersion) -> Option<SeriesLifecycle> {
    lifecycle(matrix)
        .into_iter()
        .find(|l| l.series == version.series())
}

fn add_months(date: Date, months: i64) -> Date {
    // Day-of-month clamps (Aug 31 + 6 months = Feb 28/29); only the month matters, as
    // maintenance ends on the last day of a month.
    date.checked_add(months.months()).unwrap_or(Date::MAX)
}
