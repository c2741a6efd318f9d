/** An event ready to store: validated, times resolved, data serialised. */
export interface NewEvent {
  eventUuid: string;
  sessionToken: string;
  /** Lowercased email of a workshop student, or null. */
  email: string | null;
  name: string | null;
  /** A student id known without an email (tutoring ids like `emma_smith`), or null. */
  studentId: string | null;
  eventType: string;
  /** JSON text of an object. */
  eventData: string;
  clientTs: Date | null;
  createdAt: Date;
  /**
   * The request proved (with the session's write token) that it may add events to the session named
   * by `sessionToken` even if that session is not a workshop page's own. Absent: it may not.
   */
  writeAllowed?: boolean;
}
