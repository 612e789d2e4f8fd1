// The certificate page: Print opens the browser's print dialog (certificate.css lays out the page).
document.getElementById("print-certificate")?.addEventListener("click", () => window.print());
