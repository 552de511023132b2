// The only classic script: index.html runs it before the first paint. A
// signed-in reload (the key is in this tab's sessionStorage) must not flash
// the sign-in page that index.html holds, so it is hidden here, before the
// app module (deferred) runs; js/app.js keeps the class current afterwards.
try {
  if (sessionStorage.getItem('lambda.apiKey')) document.documentElement.classList.add('signed-in');
} catch (e) {
  // storage disabled: the app shows the sign-in page anyway
}
