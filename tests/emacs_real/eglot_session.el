;;; eglot_session.el --- a user's session in Emacs + eglot against `samokoder serve' -*- lexical-binding: t -*-
;;
;; Run in batch mode by tests/emacs_real/test_eglot.py; no plugin of ours, only eglot.
;; Parameters come as JSON in $SAMOKODER_E2E_PARAMS: {file, cmd, lines: [first, last],
;; pick, result}. What the session saw is written as JSON to `result', with the error,
;; if any, and the tail of eglot's event log.

(require 'cl-lib)
(require 'json)
(require 'eglot)

(defvar sk-params
  (let ((json-object-type 'alist) (json-array-type 'list) (json-key-type 'symbol))
    (json-read-file (getenv "SAMOKODER_E2E_PARAMS"))))
(defvar sk-result nil)
(defvar sk-finished nil "samokoder/runFinished notifications, newest first.")
(defvar sk-confirmations nil "What eglot asked the user to confirm (auto-answered yes).")
(defvar sk-edits nil "The workspace edits eglot was asked to apply, as JSON.")
(defvar sk-menu nil "The prompt of eglot's code action menu.")

(defun sk-param (key) (alist-get key sk-params))
(defun sk-record (key value) (push (cons key value) sk-result))

;; The server's end-of-run notification (eglot only logs notifications it does not know).
(cl-defmethod eglot-handle-notification
  (_server (_method (eql samokoder/runFinished)) &rest params)
  (push params sk-finished))

;; The user answers "y" to eglot's confirmation of a server-initiated edit.
(advice-add 'y-or-n-p :override (lambda (prompt) (push prompt sk-confirmations) t))
(advice-add 'yes-or-no-p :override (lambda (prompt) (push prompt sk-confirmations) t))
(advice-add 'eglot--apply-workspace-edit :before
            (lambda (wedit &rest _) (push (json-encode wedit) sk-edits)))

(defun sk-text () (buffer-substring-no-properties (point-min) (point-max)))

(defun sk-wait (what seconds predicate)
  "Process events until PREDICATE holds; batch Emacs is never idle, so the pending
buffer changes are sent here, as eglot's idle timer would send them."
  (let ((deadline (+ (float-time) seconds)))
    (while (not (funcall predicate))
      (when (> (float-time) deadline) (error "Timed out waiting for %s" what))
      (when (and eglot--managed-mode eglot--recent-changes)
        (eglot--signal-textDocument/didChange))
      (accept-process-output nil 0.05))))

(defun sk-region ()
  "The selected lines, as buffer positions."
  (let ((lines (sk-param 'lines)))
    (save-excursion
      (goto-char (point-min))
      (forward-line (nth 0 lines))
      (let ((beg (point)))
        (forward-line (- (1+ (nth 1 lines)) (nth 0 lines)))
        (list beg (point))))))

(defun sk-session ()
  (find-file (sk-param 'file))
  (sk-record 'original (sk-text))
  (setq eglot-server-programs `((,major-mode . ,(sk-param 'cmd))))
  (apply #'eglot (eglot--guess-contact))
  (sk-wait "eglot to connect" 30 (lambda () (and eglot--managed-mode (eglot-current-server))))
  (let* ((server (eglot-current-server))
         (region (sk-region))
         (actions (apply #'eglot-code-actions region)))
    (sk-record 'workspace_edit_capability
               (json-encode (plist-get (plist-get (eglot-client-capabilities server) :workspace)
                                       :workspaceEdit)))
    (sk-record 'titles (mapcar (lambda (a) (plist-get a :title)) actions))
    (sk-record 'preferred (cl-loop for a in actions when (eq (plist-get a :isPreferred) t)
                                   collect (plist-get a :title)))
    ;; Pick the action from eglot's menu as a user does (M-x eglot-code-actions).
    (cl-letf (((symbol-function 'completing-read)
               (lambda (prompt &rest _) (setq sk-menu prompt) (sk-param 'pick))))
      (let ((last-nonmenu-event 0)) ; a key, not a mouse click: the menu is completing-read
        (apply #'eglot-code-actions (append region '(nil t)))))
    (sk-wait "the run to finish" 40 (lambda () sk-finished))
    (sk-record 'finished (json-encode (car sk-finished)))
    (sk-wait "the edit to reach the server" 5 (lambda () (not eglot--recent-changes)))
    (sk-record 'after_edit (sk-text))
    (sk-record 'modified (buffer-modified-p))
    ;; Undo through eglot's own executeCommand, no argument object at all.
    (let ((undone (eglot-execute-command server 'samokoder.undo [])))
      (sk-record 'undo_files (append (plist-get undone :files) nil)))
    (sk-wait "the undo to reach the buffer" 10
             (lambda () (equal (sk-text) (alist-get 'original sk-result))))
    (sk-record 'after_undo (sk-text))
    (let ((history (eglot-execute-command server 'samokoder.history (vector '(:limit 5)))))
      (sk-record 'history_agents
                 (mapcar (lambda (s) (plist-get s :agent)) (plist-get history :steps))))
    (eglot-shutdown server)))

(let ((ok nil))
  (unwind-protect
      (condition-case err
          (progn (sk-session) (setq ok t))
        (error
         (sk-record 'error (format "%S" err))
         (sk-record 'events
                    (cl-loop for b in (buffer-list)
                             when (string-match-p "events\\*" (buffer-name b))
                             concat (with-current-buffer b
                                      (buffer-substring-no-properties
                                       (max (point-min) (- (point-max) 6000))
                                       (point-max)))))))
    (sk-record 'confirmations (reverse sk-confirmations))
    (sk-record 'edits (reverse sk-edits))
    (sk-record 'menu sk-menu)
    (sk-record 'ok ok)
    (with-temp-file (sk-param 'result)
      (insert (json-encode sk-result)))
    (kill-emacs 0)))
