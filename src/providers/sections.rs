//! The sections of one poll, each read on its own. A section that fails is listed
//! in the report (the collector keeps its last good data and marks it stale); the
//! poll as a whole fails only when every section it tried failed, so a source that
//! can read nothing is stale, not "partial".

use super::ProviderError;
use crate::model::{Section, SectionFailure, SourceReport};

#[derive(Default)]
pub struct Sections {
    failed: Vec<SectionFailure>,
    first_error: Option<ProviderError>,
    tried: usize,
    errors: usize,
}

impl Sections {
    pub fn new() -> Sections {
        Sections::default()
    }

    /// The outcome of one read that feeds `sections`: its value, or None with the
    /// sections marked failed.
    pub fn read<T>(&mut self, sections: &[Section], result: Result<T, ProviderError>) -> Option<T> {
        self.tried += 1;
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors += 1;
                for s in sections {
                    if !self.failed.iter().any(|f| f.section == *s) {
                        self.failed.push(SectionFailure { section: *s, reason: e.to_string() });
                    }
                }
                self.first_error.get_or_insert(e);
                None
            }
        }
    }

    /// Take in the outcomes noted in `later` (reads that ran beside this poll's
    /// others) as if they had been read after everything noted here so far.
    pub fn append(&mut self, later: Sections) {
        self.tried += later.tried;
        self.errors += later.errors;
        for f in later.failed {
            if !self.failed.iter().any(|g| g.section == f.section) {
                self.failed.push(f);
            }
        }
        if let Some(e) = later.first_error {
            self.first_error.get_or_insert(e);
        }
    }

    /// Attach the failures to the report, or fail the poll when nothing was read.
    pub fn finish(self, mut report: SourceReport) -> Result<SourceReport, ProviderError> {
        if self.tried > 0
            && self.errors == self.tried
            && let Some(e) = self.first_error
        {
            return Err(e);
        }
        report.failed = self.failed;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_failed_read_is_partial_and_all_failed_is_an_error() {
        let mut s = Sections::new();
        assert_eq!(s.read(&[Section::Groups], Ok::<_, ProviderError>(3)), Some(3));
        assert_eq!(s.read::<u32>(&[Section::Alerts], Err(ProviderError::Throttled("slow down".into()))), None);
        let r = s.finish(SourceReport::default()).expect("partial, not failed");
        assert_eq!(r.failed.len(), 1);
        assert_eq!((r.failed[0].section, r.failed[0].reason.as_str()), (Section::Alerts, "throttled: slow down"));

        let mut s = Sections::new();
        s.read::<u32>(&[Section::Records], Err(ProviderError::Unreachable("refused".into())));
        s.read::<u32>(&[Section::Cost], Err(ProviderError::Timeout(std::time::Duration::from_secs(3))));
        assert_eq!(s.finish(SourceReport::default()), Err(ProviderError::Unreachable("refused".into())));
        // Nothing tried (nothing configured): an empty report, not an error.
        assert_eq!(Sections::new().finish(SourceReport::default()).map(|r| r.failed.len()), Ok(0));
    }
    #[test]
    fn appended_outcomes_count_as_read_after_the_others() {
        let reads = |s: &mut Sections, first: Result<u32, ProviderError>, second: Result<u32, ProviderError>| {
            s.read(&[Section::Records], first);
            s.read(&[Section::Cost], second);
        };
        let cases = [
            (Ok(1), Err(ProviderError::Throttled("slow".into()))),
            (Err(ProviderError::Unreachable("refused".into())), Ok(2)),
            (Err(ProviderError::Unreachable("refused".into())), Err(ProviderError::Throttled("slow".into()))),
            (Ok(1), Ok(2)),
        ];
        for (first, second) in cases {
            let mut together = Sections::new();
            reads(&mut together, first.clone(), second.clone());
            let (mut main, mut later) = (Sections::new(), Sections::new());
            later.read(&[Section::Cost], second);
            main.read(&[Section::Records], first);
            main.append(later);
            assert_eq!(main.finish(SourceReport::default()), together.finish(SourceReport::default()));
        }
        // Nothing noted later (a bill not due): only the reads noted here count.
        let mut main = Sections::new();
        main.read::<u32>(&[Section::Records], Err(ProviderError::Unreachable("refused".into())));
        main.append(Sections::new());
        assert_eq!(main.finish(SourceReport::default()), Err(ProviderError::Unreachable("refused".into())));
    }
}
