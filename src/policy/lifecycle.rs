//! The lifecycle policy: how long each series is maintained, and what follows.
//!
//! Semantic-version series (the Airflow 2 era):
//!
//! - **stable**: maintained 6 months after its first release, or until 3 months after the next
//!   major's first release, whichever is later;
//! - **LTS**: 18 months, or until 6 months after the next LTS major's first release, whichever
//!   is later;
//!
//! maintenance ends on the last day of the month. Later policy added a basic-support period after
//! maintenance; its end is only known where the matrix records the published date.
//!
//! Airflow-3 lines (`X.Y-Z` versions, series `X.Y`): two years of maintenance from the line's
//! first release, ending on the last day of the month, then six months of basic support (the
//! published dates of every line so far are exactly these).
//!
//! Dates the matrix records as published override the computed ones.
//!
//! **What a date means.** An end date is the first day *out* of that period, as Astronomer's own
//! clients read the same feed: the in-image version-check plugin reports a Runtime as having
//! "reached its end of maintenance" on the `endOfMaintenance` day itself. So on 2027-09-30, the
//! published end of maintenance of the 3.1 line, that line is in basic support, and on its end of
//! basic support, 2028-03-30, it is end of life.

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

impl fmt::Display for DateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DateSource::Published => "published",
            DateSource::Computed => "policy",
            DateSource::Provisional => "policy, provisional",
        })
    }
}

/// Support status on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Not released yet on that day.
    Unreleased,
    /// In maintenance: bug and security fixes (before the end-of-maintenance day).
    Maintained,
    /// After maintenance, in basic support (from the end-of-maintenance day, before the end of
    /// basic support).
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
    /// Airflow version of the newest release whose Airflow version is known.
    pub airflow: Option<AirflowVersion>,
    /// First release date: the earliest known release date of the series, or the day of the
    /// earliest public trace where that is earlier (a first release whose date the record lacks).
    pub release_date: Date,
    /// Whether `release_date` is a release date (false: the day of the earliest trace of a first
    /// release whose date the record lacks; the series came out on or before it).
    pub release_date_known: bool,
    /// End of maintenance: the first day out of maintenance.
    pub end_of_maintenance: Date,
    /// Where `end_of_maintenance` comes from.
    pub end_of_maintenance_source: DateSource,
    /// End of basic support (the first day out of it), when the series has one.
    pub end_of_basic_support: Option<Date>,
    /// Where `end_of_basic_support` comes from, when there is one.
    pub end_of_basic_support_source: Option<DateSource>,
}

fn display<S: serde::Serializer, T: fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

impl SeriesLifecycle {
    /// Status of the series on `day`.
    pub fn status_on(&self, day: Date) -> Status {
        if day < self.release_date {
            Status::Unreleased
        } else if day < self.end_of_maintenance {
            Status::Maintained
        } else if self.end_of_basic_support.is_some_and(|b| day < b) {
            Status::BasicSupport
        } else {
            Status::EndOfLife
        }
    }

    /// Status of one release of the series on `day` (unreleased before its own date, or before its
    /// earliest trace when its date is unknown).
    pub fn release_status_on(&self, release: &Release, day: Date) -> Status {
        if release.known_by().is_some_and(|d| day < d) {
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

/// Months of maintenance of an Airflow-3 line, from its first release.
pub const LINE_MAINTENANCE_MONTHS: i64 = 24;

/// Months of basic support of an Airflow-3 line, after its end of maintenance.
pub const LINE_BASIC_SUPPORT_MONTHS: i64 = 6;

/// The lifecycle of every series that has releases, in series order.
pub fn lifecycle(matrix: &Matrix) -> Vec<SeriesLifecycle> {
    let firsts: Vec<(&Series, &Release, Date)> = matrix
        .series()
        .filter_map(|s| {
            matrix
                .releases_in(s.key)
                .filter(|r| !r.version.is_prerelease())
                .filter_map(|r| r.known_by().map(|d| (r, d)))
                .min_by_key(|(r, d)| (*d, r.version.clone()))
                .map(|(r, d)| (s, r, d))
        })
        .collect();
    firsts
        .iter()
        .enumerate()
        .map(|(i, (series, first, first_date))| {
            let (computed, computed_source) = match series.key {
                SeriesKey::Airflow(..) => (
                    add_months(*first_date, LINE_MAINTENANCE_MONTHS).last_of_month(),
                    DateSource::Computed,
                ),
                SeriesKey::Major(_) => {
                    // Only later majors of the same scheme count as "the next major".
                    let later: Vec<&(&Series, &Release, Date)> = firsts[i + 1..]
                        .iter()
                        .filter(|(s, _, _)| matches!(s.key, SeriesKey::Major(_)))
                        .collect();
                    let (months, next, after) = match series.channel {
                        Channel::Stable => (6, later.first().copied(), 3),
                        Channel::Lts => (
                            18,
                            later
                                .into_iter()
                                .find(|(s, _, _)| s.channel == Channel::Lts),
                            6,
                        ),
                    };
                    let own = add_months(*first_date, months);
                    let eom = match next {
                        Some((_, _, n)) => own.max(add_months(*n, after)),
                        None => own,
                    }
                    .last_of_month();
                    let source = if next.is_some() {
                        DateSource::Computed
                    } else {
                        DateSource::Provisional
                    };
                    (eom, source)
                }
            };
            let (end_of_maintenance, end_of_maintenance_source) = match series.end_of_maintenance {
                Some(published) => (published, DateSource::Published),
                None => (computed, computed_source),
            };
            let (end_of_basic_support, end_of_basic_support_source) =
                match (series.end_of_basic_support, series.key) {
                    (Some(published), _) => (Some(published), Some(DateSource::Published)),
                    // Six months after the end of maintenance, published or computed.
                    (None, SeriesKey::Airflow(..)) => (
                        Some(add_months(end_of_maintenance, LINE_BASIC_SUPPORT_MONTHS)),
                        Some(DateSource::Computed),
                    ),
                    (None, SeriesKey::Major(_)) => (None, None),
                };
            let airflow = matrix
                .releases_in(series.key)
                .rev()
                .find_map(|r| r.airflow.clone());
            SeriesLifecycle {
                series: series.key,
                channel: series.channel,
                first_release: first.version.clone(),
                airflow,
                release_date: *first_date,
                release_date_known: first.date == Some(*first_date),
                end_of_maintenance,
                end_of_maintenance_source,
                end_of_basic_support,
                end_of_basic_support_source,
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
