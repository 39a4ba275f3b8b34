//! Seconds since the epoch ⇄ broken-down UTC time (proleptic Gregorian calendar),
//! with Howard Hinnant's day algorithms ("chrono-Compatible Low-Level Date
//! Algorithms": `civil_from_days`, `days_from_civil`), exact over the whole `i64` day
//! range that `struct tm`'s int year can express.

use super::Tm;

/// Days since 1970-01-01 of year/month(1-12)/day.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// year, month (1-12), day (1-31) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// `gmtime`: `None` when the year does not fit `tm_year` (EOVERFLOW).
pub fn broken_down(seconds: i64, zone: *const u8) -> Option<Tm> {
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let day_of_year = days - days_from_civil(year, 1, 1);
    Some(Tm {
        second: (second_of_day % 60) as i32,
        minute: (second_of_day / 60 % 60) as i32,
        hour: (second_of_day / 3600) as i32,
        day_of_month: day as i32,
        month: (month - 1) as i32,
        year: i32::try_from(year - 1900).ok()?,
        // 1970-01-01 was a Thursday (4).
        day_of_week: (days + 4).rem_euclid(7) as i32,
        day_of_year: day_of_year as i32,
        is_dst: 0,
        gmt_offset: 0,
        zone,
    })
}

/// `timegm`/`mktime` in UTC: normalises out-of-range fields (glibc does: 70 seconds is
/// a minute and 10 seconds, month 12 is January of the next year, …), writes the
/// normalised fields back, returns the seconds since the epoch.
pub fn seconds_from(tm: &mut Tm, zone: *const u8) -> Option<i64> {
    let month = i64::from(tm.month);
    let year = i64::from(tm.year) + 1900 + month.div_euclid(12);
    let month = month.rem_euclid(12) + 1;
    let days = days_from_civil(year, month, 1) + i64::from(tm.day_of_month) - 1;
    let seconds = days
        .checked_mul(86_400)?
        .checked_add(i64::from(tm.hour) * 3600)?
        .checked_add(i64::from(tm.minute) * 60)?
        .checked_add(i64::from(tm.second))?;
    *tm = broken_down(seconds, zone)?;
    Some(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_known_dates() {
        // 2000-02-29 12:34:56 UTC = 951827696 (date -u -d ... +%s).
        let tm = broken_down(951_827_696, core::ptr::null()).unwrap();
        assert_eq!(
            (
                tm.year,
                tm.month,
                tm.day_of_month,
                tm.hour,
                tm.minute,
                tm.second
            ),
            (100, 1, 29, 12, 34, 56)
        );
        assert_eq!(tm.day_of_week, 2); // a Tuesday
        assert_eq!(tm.day_of_year, 59);
        let mut copy = tm;
        assert_eq!(
            seconds_from(&mut copy, core::ptr::null()),
            Some(951_827_696)
        );
    }

    #[test]
    fn negative_times_are_before_1970() {
        let tm = broken_down(-1, core::ptr::null()).unwrap();
        assert_eq!(
            (tm.year, tm.month, tm.day_of_month, tm.hour),
            (69, 11, 31, 23)
        );
        assert_eq!(tm.day_of_week, 3);
    }

    #[test]
    fn normalises_like_glibc() {
        let mut tm = Tm {
            year: 124,
            month: 12,
            day_of_month: 32,
            hour: 25,
            minute: 61,
            second: 70,
            ..Tm::default()
        };
        // 2025-02-02 02:02:10 UTC.
        assert_eq!(
            seconds_from(&mut tm, core::ptr::null()),
            Some(1_738_461_730)
        );
        assert_eq!((tm.year, tm.month, tm.day_of_month), (125, 1, 2));
        assert_eq!((tm.hour, tm.minute, tm.second), (2, 2, 10));
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        for days in -146_097..146_097 {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
        }
    }
}
