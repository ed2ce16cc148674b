"""Camera-ready of accepted papers (app label `cameraready`): the final, de-anonymised PDF with its
checks, the confirmed final metadata, the copyright or licence agreement with its PDF receipt,
deadline reminders, and the chair's status page. The proceedings export (`conference.proceedings`)
reads it only through `selectors`."""
