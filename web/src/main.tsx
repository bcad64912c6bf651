import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError, session } from './api/client.ts';
import { App } from './app.tsx';
import { I18nProvider } from './i18n/index.tsx';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      // A 4xx will not change by asking again.
      retry: (failures, error) => !(error instanceof ApiError && error.status < 500) && failures < 2,
      refetchOnWindowFocus: false,
    },
  },
});
// A key that stops working (revoked) signs the console out.
queryClient.getQueryCache().subscribe((event) => {
  const error: unknown = event.query.state.error;
  if (event.type === 'updated' && error instanceof ApiError && error.status === 401 && session.key()) session.signOut();
});
session.subscribe(() => queryClient.clear());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <I18nProvider>
        <App />
      </I18nProvider>
    </QueryClientProvider>
  </StrictMode>,
);
