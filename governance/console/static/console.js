/* Console behaviour, served as a file so the Content-Security-Policy needs no inline script
   (script-src 'self'). Each part looks for its page's elements and does nothing without them. */
(function () {
  'use strict';

  // Customers: the lookup box searches the field chosen in the list beside it.
  var field = document.getElementById('lookup-field');
  if (field) {
    field.addEventListener('change', function () {
      document.getElementById('lookup').name = field.value;
    });
  }

  // A job's page: follow a queued or running job, then reload to show its result.
  var box = document.getElementById('job');
  function live(state) { return state === 'queued' || state === 'running'; }
  if (box && live(box.dataset.state)) {
    var timer = setInterval(function () {
      fetch(location.pathname, {headers: {Accept: 'application/json'}})
        .then(function (r) { return r.json(); })
        .then(function (j) {
          var total = j.progress.total;
          var bar = document.getElementById('job-progress');
          document.getElementById('job-state').textContent = j.state;
          bar.max = total || 1;
          bar.value = j.progress.done;
          document.getElementById('job-percent').textContent =
            j.progress.done + (total ? ' / ' + total : '');
          if (!live(j.state)) {
            clearInterval(timer);
            location.reload();
          }
        });
    }, 1000);
  }

  // A destructive action asks first: <form data-confirm="question">.
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });

  // After a password re-check, the interrupted action is posted again at once.
  var resume = document.querySelector('form[data-autosubmit]');
  if (resume) { resume.submit(); }

  // A report being built by a job: follow its link every two seconds until the PDF arrives.
  var follow = document.getElementById('report-follow');
  if (follow && document.getElementById('report-pending')) {
    setTimeout(function () { location.href = follow.href; }, 2000);
  }
})();
